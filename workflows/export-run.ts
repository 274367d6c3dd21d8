// The export pipeline as a Temporal workflow. `exportRun`: render the Python project, build the wheel, check it
// in a fresh venv, store it content-addressed, record it — each step a retried, heartbeating activity, the
// build log kept on success and failure. Deployments of an export run in deployment-run.ts.
import { ApplicationFailure, CancellationScope, proxyActivities, isCancellation } from '@temporalio/workflow';
import type { ExportActivities } from '../activities/export';
import { rootCauseMessage } from '../core/error-cause';
import type { NewExecutionEvent } from '../core/events';
import type { ExportRunInput, ExportRunResult } from '../core/export-protocol';
import { failureLog } from './failure-log';

const { recordExport } = proxyActivities<ExportActivities>({
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
    const error = { code: cancelled ? 'EXPORT_CANCELLED' : 'EXPORT_FAILED', message: cancelled ? 'the export was cancelled' : rootCauseMessage(err) };
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

