// Export use cases: export a saved workflow version as a Python package (compile, check the exportable subset,
// record, start `exportRun`), read it, stream its wheel, read its events; deploy it in Docker, read and remove
// a deployment. Every read goes through the tenant scope, so another tenant's id is a 404.
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createReadStream, existsSync, type ReadStream } from 'node:fs';
import path from 'node:path';
import { compileGraph } from '../../core/compile';
import { Conflict, NotFound, ValidationFailed } from '../../core/errors';
import { exportNames } from '../../core/export-names';
import { compileExportPlan } from '../../core/export-plan';
import { FINISHED_EXPORT_STATUSES, deploymentTemporalId, exportTemporalId, type ExportRunInput } from '../../core/export-protocol';
import type { ExportSummary, ExportView } from '../../core/api-views';
import type { ExecutionEvent } from '../../core/events';
import { checkRunInputs } from '../../core/inputs';
import type { DeploymentRow, ExportRepository, ExportRow, TenantScope, WorkflowRepository } from '../../db';
import type { ExportClient } from '../temporal/export-client';
import { requireUuid } from './ids';
import { TemporalUnavailable } from './execution-service';

export interface ExportServiceDeps {
  scope: TenantScope;
  workflows: WorkflowRepository;
  exports: ExportRepository;
  client: ExportClient;
  dataDir: string;
  deployBaseImage: string;
  /** How long DELETE /deployments/:id waits for the container to be removed. */
  stopWaitMs?: number;
  /** How long POST /exports/:id/cancel waits for the export to record its end. */
  cancelWaitMs?: number;
}

export interface DeploymentView {
  id: string;
  exportId: string;
  mode: DeploymentRow['mode'];
  status: DeploymentRow['status'];
  baseImage: string;
  inputs: Record<string, unknown>;
  containerId: string | null;
  hostPort: number | null;
  url: string | null;
  exitCode: number | null;
  outputs: Record<string, unknown> | null;
  logs: string;
  error: DeploymentRow['error'];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

// A Docker image reference: registry/path:tag or @digest, nothing a shell or a Dockerfile could read otherwise.
export const IMAGE_REFERENCE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** How a closed export workflow that never recorded its end is recorded (COMPLETED always records first). */
const EXPORT_CLOSED_AS: Record<string, { status: 'failed' | 'cancelled'; code: string }> = {
  CANCELLED: { status: 'cancelled', code: 'EXPORT_CANCELLED' },
  TERMINATED: { status: 'cancelled', code: 'EXPORT_TERMINATED' },
  FAILED: { status: 'failed', code: 'EXPORT_FAILED' },
  TIMED_OUT: { status: 'failed', code: 'EXPORT_TIMED_OUT' },
};

/** A deployment whose workflow should still be running: only these can have been abandoned by it. */
const LIVE_DEPLOYMENT_STATUSES: readonly DeploymentRow['status'][] = ['pending', 'building', 'running'];

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

  function deploymentView(row: DeploymentRow): DeploymentView {
    return {
      id: row.id,
      exportId: row.exportId,
      mode: row.mode,
      status: row.status,
      baseImage: row.baseImage,
      inputs: row.inputs,
      containerId: row.containerId,
      hostPort: row.hostPort,
      url: row.hostPort ? `http://127.0.0.1:${row.hostPort}` : null,
      exitCode: row.exitCode,
      outputs: row.outputs,
      logs: row.logs,
      error: row.error,
      createdAt: new Date(row.createdAt).toISOString(),
      startedAt: iso(row.startedAt),
      finishedAt: iso(row.finishedAt),
    };
  }

  /** The rendering input of an export, compiled again from its saved version (compilation is deterministic). */
  async function projectInput(tenantId: string, exportId: string, workflowId: string, version: number, baseImage: string): Promise<ExportRunInput> {
    const found = await scope.run(tenantId, async () => ({ workflow: await deps.workflows.find(workflowId), saved: await deps.workflows.version(workflowId, version) }));
    if (!found.workflow || !found.saved) throw new NotFound(`workflow ${workflowId} version ${version} not found`);
    const plan = compileExportPlan(compileGraph(found.saved.graph, { workflowId, workflowVersion: version }));
    return { tenantId, exportId, plan, names: exportNames(found.workflow.name), baseImage };
  }

  function checkBaseImage(image: string | undefined): string {
    const chosen = image ?? deps.deployBaseImage;
    if (!IMAGE_REFERENCE.test(chosen) || chosen.length > 255) throw new ValidationFailed(`baseImage ${JSON.stringify(chosen)} is not a Docker image reference`, { field: 'baseImage' });
    return chosen;
  }

  async function findExport(tenantId: string, id: string): Promise<ExportRow> {
    const exportId = requireUuid(id, 'export');
    const row = await scope.run(tenantId, () => deps.exports.find(exportId));
    if (!row) throw new NotFound(`export ${id} not found`);
    return row;
  }

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

  /**
   * A deployment whose workflow closed while it was still pending, building or running (terminated or timed out
   * in Temporal) ran no cleanup: it is recorded failed, and says its container may still exist.
   */
  async function repairDeployment(tenantId: string, row: DeploymentRow): Promise<DeploymentRow> {
    if (!LIVE_DEPLOYMENT_STATUSES.includes(row.status)) return row;
    let temporalStatus: string | undefined;
    try {
      temporalStatus = (await deps.client.describeDeployment(tenantId, row.id))?.status;
    } catch {
      return row; // Temporal unreachable: show what we have.
    }
    if (!temporalStatus || temporalStatus === 'RUNNING' || temporalStatus === 'CONTINUED_AS_NEW') return row;
    const what = temporalStatus.toLowerCase().replace('_', ' ');
    const leftover = row.containerId ? `; its container ${row.containerId.slice(0, 12)} may still exist (docker rm -f)` : '';
    const error = { code: 'DEPLOYMENT_ABANDONED', message: `the deployment workflow was ${what} in Temporal without cleaning up${leftover}` };
    await scope.run(tenantId, async () => {
      const fresh = await deps.exports.findDeployment(row.id);
      if (fresh && LIVE_DEPLOYMENT_STATUSES.includes(fresh.status)) await deps.exports.updateDeployment(row.id, { status: 'failed', error, finishedAt: new Date() });
    });
    return (await scope.run(tenantId, () => deps.exports.findDeployment(row.id))) ?? row;
  }

  return {
    async create(tenantId: string, startedBy: string, workflowId: string, body: { version?: number | undefined; baseImage?: string | undefined }): Promise<ExportView> {
      const id = requireUuid(workflowId, 'workflow');
      const workflow = await scope.run(tenantId, () => deps.workflows.find(id));
      if (!workflow) throw new NotFound(`workflow ${workflowId} not found`);
      const version = body.version ?? workflow.currentVersion;
      const exportId = randomUUID();
      // Compiles and checks the exportable subset before anything is recorded: a refused canvas leaves no row.
      const input = await projectInput(tenantId, exportId, id, version, checkBaseImage(body.baseImage));
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

    async deploy(
      tenantId: string,
      startedBy: string,
      id: string,
      body: { mode: 'oneshot' | 'service'; inputs: Record<string, unknown>; decision?: 'approve' | 'reject' | undefined; baseImage?: string | undefined; port: number },
    ): Promise<DeploymentView> {
      const row = await findExport(tenantId, id);
      if (row.status !== 'succeeded' || !row.storagePath || !row.wheelFile) throw new Conflict(`export ${row.id} has no wheel to deploy (status ${row.status})`, { status: row.status });
      const baseImage = checkBaseImage(body.baseImage);
      const deploymentId = randomUUID();
      const project = await projectInput(tenantId, row.id, row.workflowId, row.workflowVersion, baseImage);
      // A service takes its inputs with each POST /run; a one-shot run's are checked now, as a run's would be.
      const checked = body.mode === 'oneshot' ? checkRunInputs(project.plan.inputs, body.inputs) : ({ ok: true, inputs: {} } as const);
      if (!checked.ok) throw new ValidationFailed('the deployment inputs do not match the workflow trigger', { problems: checked.problems });
      const deployment = await scope.run(tenantId, () =>
        deps.exports.insertDeployment({
          id: deploymentId,
          exportId: row.id,
          mode: body.mode,
          status: 'pending',
          inputs: checked.inputs,
          baseImage,
          temporalWorkflowId: deploymentTemporalId(tenantId, deploymentId),
          createdBy: startedBy,
          containerPort: body.port,
        }),
      );
      await deps.client.startDeployment({
        tenantId,
        exportId: row.id,
        deploymentId,
        mode: body.mode,
        inputs: checked.inputs,
        ...(body.decision ? { decision: body.decision } : {}),
        baseImage,
        containerPort: body.port,
        storagePath: row.storagePath,
        wheelFile: row.wheelFile,
        project,
      });
      return deploymentView(deployment);
    },

    async getDeployment(tenantId: string, id: string): Promise<DeploymentView> {
      const deploymentId = requireUuid(id, 'deployment');
      const row = await scope.run(tenantId, () => deps.exports.findDeployment(deploymentId));
      if (!row) throw new NotFound(`deployment ${id} not found`);
      return deploymentView(await repairDeployment(tenantId, row));
    },

    async removeDeployment(tenantId: string, id: string): Promise<DeploymentView> {
      const deploymentId = requireUuid(id, 'deployment');
      const row = await scope.run(tenantId, () => deps.exports.findDeployment(deploymentId));
      if (!row) throw new NotFound(`deployment ${id} not found`);
      await deps.client.stopDeployment(tenantId, deploymentId, deps.stopWaitMs ?? 60_000);
      const after = await scope.run(tenantId, () => deps.exports.findDeployment(deploymentId));
      return deploymentView(after ?? row);
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;
