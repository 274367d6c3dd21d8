// Deleting a tenant (DELETE /api/v1/tenant): everything it owns outside its schema goes first, then the schema, its
// role and its public rows in one transaction. Order: its Temporal schedules (nothing starts again), its deployments
// stopped through DELETE /deployments/:id's path (the container is removed by the deployment's own workflow, which
// needs the schema to record it), then every other open workflow of it terminated (runs, child runs, map
// coordinators, scheduled starts, exports). Every step is safe to repeat and the tenant row goes last, so a
// deletion that stopped half-way (a crash, Temporal away, a container slow to stop) leaves the tenant in place and
// is finished by repeating the DELETE (docs/decisions.md "Complete deletion").
import type { Logger } from 'pino';
import { AppError } from '../../core/errors';
import { TERMINAL_EXECUTION_STATUSES, temporalWorkflowId, tenantWorkflowIdPrefix } from '../../core/events';
import { DEPLOYMENT_RUN_WORKFLOW } from '../../core/export-protocol';
import type { AccountRepository, TenantScope } from '../../db';
import type { InvalidationBus } from '../cache/invalidation-bus';
import type { TenantWorkflows } from '../temporal/tenant-workflows';
import type { DeploymentService } from './deployment-service';
import type { ScheduleService } from './schedule-service';

/** Something of the tenant would not stop: the tenant stays, and the same DELETE finishes the job later. */
export class TenantDeletionIncomplete extends AppError {
  constructor(message: string, left: string[]) {
    super('TENANT_DELETION_INCOMPLETE', 503, `${message}; the tenant is not deleted yet: repeat the DELETE`, { left });
  }
}

export interface TenantDeletionDeps {
  scope: TenantScope;
  accounts: AccountRepository;
  schedules: Pick<ScheduleService, 'removeAllOfTenant'>;
  deployments: Pick<DeploymentService, 'remove'>;
  temporal: TenantWorkflows;
  bus: InvalidationBus;
  logger: Logger;
}

/** Terminations, then a fresh listing; a run may open a child between the two, so a few passes. */
const TERMINATE_PASSES = 5;

export function createTenantDeletion(deps: TenantDeletionDeps) {
  const { scope, temporal, logger } = deps;

  /** Deployments to stop: every row that may still hold a container, and every deployment workflow still open. */
  async function deploymentIds(tenantId: string): Promise<string[]> {
    const rows: { id: string }[] = await scope.run(tenantId, (m) =>
      m.query(`select id from deployments where container_id is not null or status in ('pending', 'building', 'running')`),
    );
    const prefix = `${tenantWorkflowIdPrefix(tenantId)}deployment/`;
    const open = (await temporal.listOpen(tenantId)).filter((w) => w.type === DEPLOYMENT_RUN_WORKFLOW && w.workflowId.startsWith(prefix));
    return [...new Set([...rows.map((r) => r.id), ...open.map((w) => w.workflowId.slice(prefix.length))])];
  }

  async function stopDeployments(tenantId: string): Promise<void> {
    const ids = await deploymentIds(tenantId);
    const results = await Promise.allSettled(ids.map((id) => deps.deployments.remove(tenantId, id)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [ids[i] as string] : []));
    for (const r of results) if (r.status === 'rejected') logger.warn({ err: r.reason, tenantId }, 'stopping a deployment of a deleted tenant failed');
    // A deployment workflow still open holds a container: terminating it would leave the container behind.
    const stillOpen = (await temporal.listOpen(tenantId)).filter((w) => w.type === DEPLOYMENT_RUN_WORKFLOW).map((w) => w.workflowId);
    if (failed.length || stillOpen.length) throw new TenantDeletionIncomplete('some deployments did not stop', [...failed, ...stillOpen]);
  }

  async function terminateTheRest(tenantId: string): Promise<number> {
    // Rows first: a run started a moment ago may not be listed by Temporal's visibility store yet.
    const rows: { id: string }[] = await scope.run(tenantId, (m) =>
      m.query(`select id from executions where status <> all($1::text[])`, [TERMINAL_EXECUTION_STATUSES]),
    );
    let ids = rows.map((r) => temporalWorkflowId(tenantId, r.id));
    let terminated = 0;
    for (let pass = 0; pass < TERMINATE_PASSES; pass++) {
      await Promise.all(ids.map((id) => temporal.terminate(tenantId, id, 'tenant deleted')));
      terminated += ids.length;
      const open = await temporal.listOpen(tenantId);
      if (open.some((w) => w.type === DEPLOYMENT_RUN_WORKFLOW)) throw new TenantDeletionIncomplete('a deployment started during the deletion', open.map((w) => w.workflowId));
      ids = open.map((w) => w.workflowId);
      if (ids.length === 0) return terminated;
    }
    throw new TenantDeletionIncomplete('some workflows are still open', ids);
  }

  return {
    async remove(tenantId: string, actor: string): Promise<void> {
      await deps.schedules.removeAllOfTenant(tenantId);
      await stopDeployments(tenantId);
      const terminated = await terminateTheRest(tenantId);
      await deps.accounts.deleteTenant(tenantId);
      await deps.bus.publish({ kind: 'tenant', tenantId });
      logger.info({ tenantId, actor, terminated }, 'tenant deleted');
    },
  };
}

export type TenantDeletion = ReturnType<typeof createTenantDeletion>;
