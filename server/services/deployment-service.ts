// Deployment use cases (docs/export.md): deploy a finished export in Docker, one-shot or as a service
// (record, start `deploymentRun`), read a deployment, stop and remove it. Every read goes through the tenant
// scope, so another tenant's id is a 404. What a container may be and do (base images, user, limits, egress,
// how many per tenant) is decided here, once (docs/security.md "Hardened deployments").
import { randomUUID } from 'node:crypto';
import { DEFAULT_DEPLOYMENT_SETTINGS, sandboxFor, type DeploymentSettings } from '../../core/deployment-sandbox';
import { AppError, Conflict, NotFound, ValidationFailed } from '../../core/errors';
import { deploymentTemporalId } from '../../core/export-protocol';
import { checkRunInputs } from '../../core/inputs';
import type { DeploymentRepository, DeploymentRow, ExportRepository, TenantScope, WorkflowRepository } from '../../db';
import type { DeploymentClient } from '../temporal/deployment-client';
import { checkBaseImage, findExport, projectInput } from './export-project';
import { requireUuid } from './ids';

export interface DeploymentServiceDeps {
  scope: TenantScope;
  workflows: WorkflowRepository;
  exports: ExportRepository;
  deployments: DeploymentRepository;
  client: DeploymentClient;
  /** Allowed base images, container user and limits, egress and the per-tenant limit (DEFAULT_DEPLOYMENT_SETTINGS when absent). */
  settings?: DeploymentSettings;
  /** How long DELETE /deployments/:id waits for the container to be removed. */
  stopWaitMs?: number;
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

export interface DeployRequest {
  mode: 'oneshot' | 'service';
  inputs: Record<string, unknown>;
  decision?: 'approve' | 'reject' | undefined;
  baseImage?: string | undefined;
  port: number;
}

/** A deployment whose workflow should still be running: only these can have been abandoned by it. */
const LIVE_DEPLOYMENT_STATUSES: readonly DeploymentRow['status'][] = ['pending', 'building', 'running'];

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function view(row: DeploymentRow): DeploymentView {
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

/** A base image outside DEPLOY_ALLOWED_BASE_IMAGES: a 400 that names the allowed ones. */
export class BaseImageNotAllowed extends AppError {
  constructor(image: string, allowed: readonly string[]) {
    super('BASE_IMAGE_NOT_ALLOWED', 400, `baseImage ${JSON.stringify(image)} is not allowed; allowed: ${allowed.join(', ')}`, { field: 'baseImage', allowed });
  }
}

/** A tenant at its limit of running deployments: a 409 until one of them ends or is deleted. */
export class DeploymentLimitReached extends AppError {
  constructor(limit: number) {
    super(
      'DEPLOYMENT_LIMIT_REACHED',
      409,
      `this tenant already has ${limit} running deployment${limit === 1 ? '' : 's'}, its limit (DEPLOY_MAX_RUNNING_PER_TENANT); delete one first`,
      { limit },
    );
  }
}

export function createDeploymentService(deps: DeploymentServiceDeps) {
  const { scope } = deps;
  const settings = deps.settings ?? DEFAULT_DEPLOYMENT_SETTINGS;

  function allowedBaseImage(requested: string | undefined): string {
    const image = checkBaseImage(requested, settings.allowedBaseImages[0] ?? '');
    if (!settings.allowedBaseImages.includes(image)) throw new BaseImageNotAllowed(image, settings.allowedBaseImages);
    return image;
  }

  /** Inserts the row if the tenant is under its limit of live deployments, counted under a per-tenant lock. */
  async function insertWithinLimit(tenantId: string, row: Parameters<DeploymentRepository['insert']>[0]): Promise<DeploymentRow | null> {
    return scope.run(tenantId, async () => {
      await deps.deployments.lockStarts();
      const live = await deps.deployments.listByStatus(LIVE_DEPLOYMENT_STATUSES);
      if (live.length >= settings.maxRunningPerTenant) return null;
      return deps.deployments.insert(row);
    });
  }

  async function findDeployment(tenantId: string, id: string): Promise<DeploymentRow> {
    const deploymentId = requireUuid(id, 'deployment');
    const row = await scope.run(tenantId, () => deps.deployments.find(deploymentId));
    if (!row) throw new NotFound(`deployment ${id} not found`);
    return row;
  }

  /**
   * A deployment whose workflow closed while it was still pending, building or running (terminated or timed out
   * in Temporal) ran no cleanup: it is recorded failed, and says its container may still exist.
   */
  async function repair(tenantId: string, row: DeploymentRow): Promise<DeploymentRow> {
    if (!LIVE_DEPLOYMENT_STATUSES.includes(row.status)) return row;
    let temporalStatus: string | undefined;
    try {
      temporalStatus = (await deps.client.describe(tenantId, row.id))?.status;
    } catch {
      return row; // Temporal unreachable: show what we have.
    }
    if (!temporalStatus || temporalStatus === 'RUNNING' || temporalStatus === 'CONTINUED_AS_NEW') return row;
    const what = temporalStatus.toLowerCase().replace('_', ' ');
    const leftover = row.containerId ? `; its container ${row.containerId.slice(0, 12)} may still exist (docker rm -f)` : '';
    const error = { code: 'DEPLOYMENT_ABANDONED', message: `the deployment workflow was ${what} in Temporal without cleaning up${leftover}` };
    await scope.run(tenantId, async () => {
      const fresh = await deps.deployments.find(row.id);
      if (fresh && LIVE_DEPLOYMENT_STATUSES.includes(fresh.status)) await deps.deployments.update(row.id, { status: 'failed', error, finishedAt: new Date() });
    });
    return (await scope.run(tenantId, () => deps.deployments.find(row.id))) ?? row;
  }

  return {
    async deploy(tenantId: string, startedBy: string, exportId: string, body: DeployRequest): Promise<DeploymentView> {
      const row = await findExport(deps, tenantId, exportId);
      if (row.status !== 'succeeded' || !row.storagePath || !row.wheelFile) throw new Conflict(`export ${row.id} has no wheel to deploy (status ${row.status})`, { status: row.status });
      const baseImage = allowedBaseImage(body.baseImage);
      const deploymentId = randomUUID();
      const project = await projectInput(deps, tenantId, row.id, row.workflowId, row.workflowVersion, baseImage);
      // A service takes its inputs with each POST /run; a one-shot run's are checked now, as a run's would be.
      const checked = body.mode === 'oneshot' ? checkRunInputs(project.plan.inputs, body.inputs) : ({ ok: true, inputs: {} } as const);
      if (!checked.ok) throw new ValidationFailed('the deployment inputs do not match the workflow trigger', { problems: checked.problems });
      const record = {
        id: deploymentId,
        exportId: row.id,
        mode: body.mode,
        status: 'pending' as const,
        inputs: checked.inputs,
        baseImage,
        temporalWorkflowId: deploymentTemporalId(tenantId, deploymentId),
        createdBy: startedBy,
        containerPort: body.port,
      };
      let deployment = await insertWithinLimit(tenantId, record);
      if (!deployment) {
        // At the limit: a deployment whose workflow was terminated may still read as running; repair those, then count again.
        const live = await scope.run(tenantId, () => deps.deployments.listByStatus(LIVE_DEPLOYMENT_STATUSES));
        for (const one of live) await repair(tenantId, one);
        deployment = await insertWithinLimit(tenantId, record);
        if (!deployment) throw new DeploymentLimitReached(settings.maxRunningPerTenant);
      }
      await deps.client.start({
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
        sandbox: sandboxFor(settings, tenantId),
      });
      return view(deployment);
    },

    async get(tenantId: string, id: string): Promise<DeploymentView> {
      return view(await repair(tenantId, await findDeployment(tenantId, id)));
    },

    async remove(tenantId: string, id: string): Promise<DeploymentView> {
      const row = await findDeployment(tenantId, id);
      await deps.client.stop(tenantId, row.id, deps.stopWaitMs ?? 60_000);
      const after = await scope.run(tenantId, () => deps.deployments.find(row.id));
      return view(after ?? row);
    },
  };
}

export type DeploymentService = ReturnType<typeof createDeploymentService>;
