// A deployment of an export as a Temporal workflow (registered as `deploymentRun`): build an image, run it
// once or as a service until the `stop` signal, then remove it.
import { ApplicationFailure, condition, defineSignal, proxyActivities, setHandler, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { ExportActivities } from '../activities/export';
import { rootCauseMessage } from '../core/error-cause';
import { STOP_DEPLOYMENT_SIGNAL, type DeploymentRunInput } from '../core/export-protocol';
import { failureLog } from './failure-log';

// The same options as when this workflow lived in export-run.ts: in-flight deployments replay unchanged.
const { recordDeployment } = proxyActivities<ExportActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
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
    if (containerId || imageTag) await docker.removeDeployment({ containerId, imageTag, deploymentId });
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
      ...(input.sandbox ? { sandbox: input.sandbox } : {}),
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
      (cleanupErr: unknown) => `removing its container or image failed (${rootCauseMessage(cleanupErr)}); it may still exist`,
    );
    // A stop before the container ran, or a cancel from Temporal (an operator): the container is gone, say so.
    if (err instanceof StopRequested || isCancellation(err)) {
      const changes = leftover ? { status: 'stopped' as const, error: { code: 'CLEANUP_FAILED', message: leftover }, finishedAt: at() } : { status: 'stopped' as const, containerId: null, finishedAt: at() };
      await CancellationScope.nonCancellable(() => recordDeployment({ tenantId, deploymentId, changes }));
      if (isCancellation(err)) throw err;
      return;
    }
    const error = { code: 'DEPLOYMENT_FAILED', message: leftover ? `${rootCauseMessage(err)}; ${leftover}` : rootCauseMessage(err) };
    await CancellationScope.nonCancellable(() =>
      recordDeployment({ tenantId, deploymentId, changes: { status: 'failed', error, logs: failureLog(err), finishedAt: at() } }),
    );
    throw ApplicationFailure.nonRetryable(error.message, error.code);
  }
}

class StopRequested extends Error {}
