// The export pipeline as Temporal workflows. `exportRun`: render the Python project, build the wheel, check it
// in a fresh venv, store it content-addressed, record it — each step a retried, heartbeating activity, the
// build log kept on success and failure. `deploymentRun`: build an image, run it once or as a service until
// the `stop` signal, then remove it.
import { ApplicationFailure, condition, defineSignal, proxyActivities, setHandler, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { ExportActivities } from '../activities/export';
import type { NewExecutionEvent } from '../core/events';
import { STOP_DEPLOYMENT_SIGNAL, type DeploymentRunInput, type ExportRunInput, type ExportRunResult } from '../core/export-protocol';

const { recordExport, recordDeployment } = proxyActivities<ExportActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
});

// Builds are retried a few times (a full disk, a killed worker), not forever: a broken project fails the export.
const { renderExportProject, buildExportWheel, checkExportWheel, storeExportArtifact } = proxyActivities<ExportActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second', backoffCoefficient: 2 },
});

const docker = proxyActivities<ExportActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second', backoffCoefficient: 2 },
});

// A one-shot container may run as long as its workflow does; the wait heartbeats.
const { waitDeploymentContainer } = proxyActivities<ExportActivities>({
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '20 seconds',
  retry: { maximumAttempts: 5, initialInterval: '1 second' },
});

export const stopDeploymentSignal = defineSignal(STOP_DEPLOYMENT_SIGNAL);

/** The log an activity failure carries in its details (see activities/export/build-wheel.ts). */
function failureLog(err: unknown): string {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure) {
      const detail = e.details?.[0] as { log?: unknown } | undefined;
      if (typeof detail?.log === 'string') return detail.log;
    }
  }
  return '';
}

function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && 'cause' in e && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(err);
}

export async function exportRun(input: ExportRunInput): Promise<ExportRunResult> {
  const { tenantId, exportId } = input;
  const at = () => new Date().toISOString();
  const event = (type: NewExecutionEvent['type'], data?: Record<string, unknown>): NewExecutionEvent => ({ type, at: at(), key: type, ...(data ? { data } : {}) });
  const project = { tenantId, exportId, plan: input.plan, names: input.names, baseImage: input.baseImage };
  let log = '';
  try {
    await recordExport({ tenantId, exportId, changes: { status: 'rendering' }, events: [event('export.started')] });
    const rendered = await renderExportProject(project);
    await recordExport({ tenantId, exportId, changes: { status: 'building' }, events: [event('export.rendered', { files: rendered.files })] });
    const built = await buildExportWheel(project);
    log = built.log;
    await recordExport({ tenantId, exportId, changes: { status: 'checking', buildLog: log, wheelFile: built.wheelFile }, events: [event('export.built', { wheelFile: built.wheelFile })] });
    const checked = await checkExportWheel({ wheelPath: built.wheelPath, scriptName: input.names.scriptName, moduleName: input.names.moduleName });
    log = `${log}\n${checked.log}`;
    await recordExport({ tenantId, exportId, changes: { status: 'storing', buildLog: log }, events: [event('export.checked')] });
    const stored = await storeExportArtifact({ wheelPath: built.wheelPath });
    const finishedAt = at();
    await recordExport({
      tenantId,
      exportId,
      changes: { status: 'succeeded', sha256: stored.sha256, sizeBytes: stored.sizeBytes, storagePath: stored.storagePath, finishedAt },
      events: [event('export.stored', { sha256: stored.sha256, sizeBytes: stored.sizeBytes }), event('export.succeeded', { wheelFile: built.wheelFile, sha256: stored.sha256 })],
    });
    return { wheelFile: built.wheelFile, sha256: stored.sha256, sizeBytes: stored.sizeBytes };
  } catch (err) {
    const cancelled = isCancellation(err);
    const error = { code: cancelled ? 'EXPORT_CANCELLED' : 'EXPORT_FAILED', message: cancelled ? 'the export was cancelled' : failureMessage(err) };
    const failedLog = [log, failureLog(err)].filter(Boolean).join('\n');
    await CancellationScope.nonCancellable(() =>
      recordExport({
        tenantId,
        exportId,
        changes: { status: cancelled ? 'cancelled' : 'failed', error, buildLog: failedLog, finishedAt: at() },
        events: [event('export.failed', { error })],
      }),
    );
    if (cancelled) throw err;
    throw ApplicationFailure.nonRetryable(error.message, error.code);
  }
}

export async function deploymentRun(input: DeploymentRunInput): Promise<void> {
  const { tenantId, deploymentId } = input;
  const at = () => new Date().toISOString();
  let stopRequested = false;
  setHandler(stopDeploymentSignal, () => {
    stopRequested = true;
  });
  let imageTag: string | null = null;
  let containerId: string | null = null;
  const cleanup = () => CancellationScope.nonCancellable(async () => {
    // Nothing made yet (the build never finished): nothing to remove, and no engine to ask.
    if (containerId || imageTag) await docker.removeDeployment({ containerId, imageTag });
  });
  try {
    await recordDeployment({ tenantId, deploymentId, changes: { status: 'building', startedAt: at() } });
    const image = await docker.buildDeploymentImage({
      tenantId,
      deploymentId,
      storagePath: input.storagePath,
      wheelFile: input.wheelFile,
      project: input.project,
      baseImage: input.baseImage,
    });
    imageTag = image.imageTag;
    if (stopRequested) throw new StopRequested();
    const started = await docker.startDeploymentContainer({
      tenantId,
      deploymentId,
      imageTag,
      mode: input.mode,
      inputs: input.inputs,
      containerPort: input.containerPort,
      ...(input.decision ? { decision: input.decision } : {}),
    });
    containerId = started.containerId;
    await recordDeployment({ tenantId, deploymentId, changes: { status: 'running', imageTag, containerId, hostPort: started.hostPort, logs: image.log } });
    if (input.mode === 'oneshot') {
      const done = await waitDeploymentContainer({ containerId });
      let outputs: Record<string, unknown> | null = null;
      try {
        outputs = done.exitCode === 0 ? (JSON.parse(done.stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>) : null;
      } catch {
        outputs = null;
      }
      const ok = done.exitCode === 0 && outputs !== null;
      await recordDeployment({
        tenantId,
        deploymentId,
        changes: {
          status: ok ? 'succeeded' : 'failed',
          exitCode: done.exitCode,
          outputs,
          logs: `${done.stdout}${done.stderr}`,
          ...(ok ? {} : { error: { code: 'DEPLOYMENT_FAILED', message: done.stderr.trim().split('\n').pop() ?? `exit ${done.exitCode}` } }),
          finishedAt: at(),
        },
      });
      await condition(() => stopRequested);
      await cleanup();
      await recordDeployment({ tenantId, deploymentId, changes: { status: ok ? 'succeeded' : 'failed', containerId: null } });
      return;
    }
    await condition(() => stopRequested);
    await cleanup();
    await recordDeployment({ tenantId, deploymentId, changes: { status: 'stopped', containerId: null, finishedAt: at() } });
  } catch (err) {
    // The cleanup can fail too (the engine went away): the deployment still records how it ended, and what it
    // may have left behind, instead of staying `building` with the workflow failed on the cleanup's error.
    const leftover = await cleanup().then(
      () => null,
      (cleanupErr: unknown) => `removing its container or image failed (${failureMessage(cleanupErr)}); it may still exist`,
    );
    // A stop before the container ran, or a cancel from Temporal (an operator): the container is gone, say so.
    if (err instanceof StopRequested || isCancellation(err)) {
      const changes = leftover ? { status: 'stopped' as const, error: { code: 'CLEANUP_FAILED', message: leftover }, finishedAt: at() } : { status: 'stopped' as const, containerId: null, finishedAt: at() };
      await CancellationScope.nonCancellable(() => recordDeployment({ tenantId, deploymentId, changes }));
      if (isCancellation(err)) throw err;
      return;
    }
    const error = { code: 'DEPLOYMENT_FAILED', message: leftover ? `${failureMessage(err)}; ${leftover}` : failureMessage(err) };
    await CancellationScope.nonCancellable(() =>
      recordDeployment({ tenantId, deploymentId, changes: { status: 'failed', error, logs: failureLog(err), finishedAt: at() } }),
    );
    throw ApplicationFailure.nonRetryable(error.message, error.code);
  }
}

class StopRequested extends Error {}
