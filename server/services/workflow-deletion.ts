// What deleting a workflow stops (core/workflow-deletion.ts says it to users): its schedules and webhooks go, so
// nothing starts it again; its open runs are cancelled and its deployments stopped through the same paths as
// POST /executions/:id/cancel and DELETE /deployments/:id; its open exports are cancelled. Its history stays.
// Every step is safe to repeat, so a deletion that stopped half-way is finished by repeating DELETE.
import { Conflict } from '../../core/errors';
import { FINISHED_EXPORT_STATUSES } from '../../core/export-protocol';
import { TERMINAL_EXECUTION_STATUSES } from '../../core/events';
import type { TenantScope } from '../../db';
import type { DeploymentService } from './deployment-service';
import type { ExecutionService } from './execution-service';
import type { ExportService } from './export-service';
import type { ScheduleService } from './schedule-service';
import type { WebhookService } from './webhook-service';

export interface WorkflowDeletionDeps {
  scope: TenantScope;
  schedules: Pick<ScheduleService, 'removeAllOf'>;
  webhooks: Pick<WebhookService, 'removeAllOf'>;
  executions: Pick<ExecutionService, 'cancel'>;
  exports: Pick<ExportService, 'cancel'>;
  deployments: Pick<DeploymentService, 'remove'>;
}

/** A cancel that lost a race with the end of what it cancels has nothing left to do. */
const alreadyOver = (err: unknown) => {
  if (err instanceof Conflict) return;
  throw err;
};

/** Stops everything of a workflow that is marked deleted; answers when its runs are cancelled and its containers gone. */
export function createWorkflowDeletion(deps: WorkflowDeletionDeps) {
  const { scope } = deps;

  /** The ids this workflow still has open: top-level runs (their children go with them), exports, every deployment. */
  async function openParts(tenantId: string, workflowId: string) {
    return scope.run(tenantId, async (m) => {
      const runs: { id: string }[] = await m.query(
        `select id from executions where workflow_id = $1 and parent_execution_id is null and status <> all($2::text[]) order by created_at`,
        [workflowId, TERMINAL_EXECUTION_STATUSES],
      );
      const exports: { id: string }[] = await m.query(`select id from exports where workflow_id = $1 and status <> all($2::text[])`, [workflowId, FINISHED_EXPORT_STATUSES]);
      // Every deployment, whatever its row says: a finished one-shot keeps its container until it is stopped.
      const deployments: { id: string }[] = await m.query(
        `select d.id from deployments d join exports e on e.id = d.export_id where e.workflow_id = $1 and (d.container_id is not null or d.status in ('pending', 'building', 'running'))`,
        [workflowId],
      );
      return { runs, exports, deployments };
    });
  }

  return {
    async stopEverythingOf(tenantId: string, workflowId: string, by: string): Promise<void> {
      await deps.schedules.removeAllOf(tenantId, workflowId);
      await deps.webhooks.removeAllOf(tenantId, workflowId);
      const open = await openParts(tenantId, workflowId);
      await Promise.all([
        ...open.runs.map((r) => deps.executions.cancel(tenantId, r.id, by).catch(alreadyOver)),
        ...open.exports.map((e) => deps.exports.cancel(tenantId, e.id).catch(alreadyOver)),
        ...open.deployments.map((d) => deps.deployments.remove(tenantId, d.id)),
      ]);
    },
  };
}

export type WorkflowDeletion = ReturnType<typeof createWorkflowDeletion>;
