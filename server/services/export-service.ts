// Export use cases: export a saved workflow version as a Python package (compile, check the exportable subset,
// record, start `exportRun`), read it, stream its wheel, read its events, cancel it. Deploying an export is
// server/services/deployment-service.ts. Every read goes through the tenant scope, so another tenant's id is a 404.
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createReadStream, existsSync, type ReadStream } from 'node:fs';
import path from 'node:path';
import { Conflict, NotFound } from '../../core/errors';
import { FINISHED_EXPORT_STATUSES, exportTemporalId } from '../../core/export-protocol';
import type { ExportSummary, ExportView } from '../../core/api-views';
import type { ExecutionEvent } from '../../core/events';
import type { ExportRepository, ExportRow, TenantScope, WorkflowRepository } from '../../db';
import type { ExportClient } from '../temporal/export-client';
import { checkBaseImage, findExport as findExportIn, projectInput } from './export-project';
import { requireUuid } from './ids';
import { TemporalUnavailable } from './execution-service';

export interface ExportServiceDeps {
  scope: TenantScope;
  workflows: WorkflowRepository;
  exports: ExportRepository;
  client: ExportClient;
  dataDir: string;
  /** The base image an export's project names when the request names none. */
  deployBaseImage: string;
  /** How long POST /exports/:id/cancel waits for the export to record its end. */
  cancelWaitMs?: number;
}

/** How a closed export workflow that never recorded its end is recorded (COMPLETED always records first). */
const EXPORT_CLOSED_AS: Record<string, { status: 'failed' | 'cancelled'; code: string }> = {
  CANCELLED: { status: 'cancelled', code: 'EXPORT_CANCELLED' },
  TERMINATED: { status: 'cancelled', code: 'EXPORT_TERMINATED' },
  FAILED: { status: 'failed', code: 'EXPORT_FAILED' },
  TIMED_OUT: { status: 'failed', code: 'EXPORT_TIMED_OUT' },
};

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function createExportService(deps: ExportServiceDeps) {
  const { scope } = deps;

  function view(row: ExportRow): ExportView {
    return { ...summary(row), buildLog: row.buildLog };
  }

  function summary(row: Omit<ExportRow, 'buildLog'>): ExportSummary {
    return {
      id: row.id,
      workflowId: row.workflowId,
      workflowVersion: row.workflowVersion,
      status: row.status,
      packageName: row.packageName,
      version: row.version,
      wheelFile: row.wheelFile,
      sha256: row.sha256,
      sizeBytes: row.sizeBytes,
      error: row.error,
      createdAt: new Date(row.createdAt).toISOString(),
      finishedAt: iso(row.finishedAt),
      temporal: { workflowId: row.temporalWorkflowId },
    };
  }

  const findExport = (tenantId: string, id: string) => findExportIn(deps, tenantId, id);

  /**
   * Brings an unfinished row in line with Temporal when its workflow closed without recording its end (an
   * operator terminated it, or it timed out): Temporal owns run state, the row is repaired on read.
   */
  async function repair(tenantId: string, row: ExportRow): Promise<ExportRow> {
    if (FINISHED_EXPORT_STATUSES.includes(row.status)) return row;
    let temporalStatus: string | undefined;
    try {
      temporalStatus = (await deps.client.describeExport(tenantId, row.id))?.status;
    } catch {
      return row; // Temporal unreachable: show what we have.
    }
    const ended = temporalStatus ? EXPORT_CLOSED_AS[temporalStatus] : undefined;
    if (!ended) return row;
    const at = new Date();
    const error = { code: ended.code, message: `the export workflow was ${temporalStatus?.toLowerCase().replace('_', ' ')} in Temporal` };
    await scope.run(tenantId, async () => {
      const fresh = await deps.exports.find(row.id);
      if (!fresh || FINISHED_EXPORT_STATUSES.includes(fresh.status)) return;
      await deps.exports.record(row.id, { status: ended.status, error, finishedAt: at }, [{ type: 'export.failed', at: at.toISOString(), data: { error }, key: 'export.failed' }]);
    });
    return findExport(tenantId, row.id);
  }

  return {
    async create(tenantId: string, startedBy: string, workflowId: string, body: { version?: number | undefined; baseImage?: string | undefined }): Promise<ExportView> {
      const id = requireUuid(workflowId, 'workflow');
      const workflow = await scope.run(tenantId, () => deps.workflows.find(id));
      if (!workflow) throw new NotFound(`workflow ${workflowId} not found`);
      const version = body.version ?? workflow.currentVersion;
      const exportId = randomUUID();
      // Compiles and checks the exportable subset before anything is recorded: a refused canvas leaves no row.
      const input = await projectInput(deps, tenantId, exportId, id, version, checkBaseImage(body.baseImage, deps.deployBaseImage));
      const row = await scope.run(tenantId, () =>
        deps.exports.insert({
          id: exportId,
          workflowId: id,
          workflowVersion: version,
          status: 'pending',
          packageName: input.names.distributionName,
          moduleName: input.names.moduleName,
          scriptName: input.names.scriptName,
          version: String(version),
          temporalWorkflowId: exportTemporalId(tenantId, exportId),
          createdBy: startedBy,
        }),
      );
      try {
        await deps.client.startExport(input);
      } catch (err) {
        // Never leave a row `pending` that no workflow will ever move: record why it did not start.
        const message = `could not start the export on Temporal: ${err instanceof Error ? err.message : String(err)}`;
        const at = new Date();
        await scope.run(tenantId, () =>
          deps.exports.record(exportId, { status: 'failed', error: { code: 'START_FAILED', message }, finishedAt: at }, [
            { type: 'export.failed', at: at.toISOString(), data: { error: message }, key: 'export:start-failed' },
          ]),
        );
        throw new TemporalUnavailable(message);
      }
      return view(row);
    },

    async list(tenantId: string, workflowId: string, limit: number): Promise<{ items: ExportSummary[] }> {
      const id = requireUuid(workflowId, 'workflow');
      return scope.run(tenantId, async () => {
        if (!(await deps.workflows.find(id))) throw new NotFound(`workflow ${workflowId} not found`);
        return { items: (await deps.exports.listForWorkflow(id, limit)).map(summary) };
      });
    },

    async get(tenantId: string, id: string): Promise<ExportView> {
      return view(await repair(tenantId, await findExport(tenantId, id)));
    },

    async events(tenantId: string, id: string, after: number, limit: number): Promise<{ items: ExecutionEvent[] }> {
      const row = await findExport(tenantId, id);
      return { items: await scope.run(tenantId, () => deps.exports.events(row.id, after, limit)) };
    },

    async download(tenantId: string, id: string): Promise<{ stream: ReadStream; wheelFile: string; sha256: string; sizeBytes: number }> {
      const row = await findExport(tenantId, id);
      if (row.status !== 'succeeded' || !row.storagePath || !row.wheelFile || !row.sha256 || row.sizeBytes === null) {
        throw new Conflict(`export ${row.id} has no wheel yet (status ${row.status})`, { status: row.status });
      }
      const file = path.join(deps.dataDir, row.storagePath);
      if (!existsSync(file)) throw new NotFound(`the wheel of export ${row.id} is missing from the artifact store`);
      return { stream: createReadStream(file), wheelFile: row.wheelFile, sha256: row.sha256, sizeBytes: row.sizeBytes };
    },

    /**
     * Cancels an export that has not finished: the running step is stopped (its heartbeat sees the cancel) and
     * the export records itself `cancelled` with EXPORT_CANCELLED. A finished one answers 409.
     */
    async cancel(tenantId: string, id: string): Promise<ExportView> {
      const row = await findExport(tenantId, id);
      if (FINISHED_EXPORT_STATUSES.includes(row.status)) throw new Conflict(`export ${row.id} is already ${row.status}`, { status: row.status });
      try {
        await deps.client.cancelExport(tenantId, row.id, deps.cancelWaitMs ?? 10_000);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) {
          throw new TemporalUnavailable(`could not cancel the export: ${err instanceof Error ? err.message : String(err)}`);
        }
        // No workflow behind an unfinished row: nothing will ever move it, so the cancel records the end itself.
        const at = new Date();
        await scope.run(tenantId, () =>
          deps.exports.record(row.id, { status: 'cancelled', error: { code: 'EXPORT_CANCELLED', message: 'the export was cancelled' }, finishedAt: at }, [
            { type: 'export.failed', at: at.toISOString(), data: { error: { code: 'EXPORT_CANCELLED', message: 'the export was cancelled' } }, key: 'export.failed' },
          ]),
        );
      }
      return view(await findExport(tenantId, row.id));
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;
