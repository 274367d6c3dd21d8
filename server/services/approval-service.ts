// Approval use cases: the inbox across runs, and deciding one approval of a run. The decision goes to the
// run's `decide` Update, whose validator is the authority; the checks here only answer early and clearly.
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DECIDED_APPROVAL_STATUSES, DECISION_REFUSALS, mayDecide, type DecisionBody, type DecisionRefusal, type DeciderRole } from '../../core/approval';
import type { ApprovalView } from '../../core/api-views';
import { AppError, Conflict, Forbidden, NotFound } from '../../core/errors';
import type { ApprovalStatus } from '../../core/approval';
import type { Approval, ApprovalRepository, ExecutionRepository, TenantScope } from '../../db';
import type { Principal } from '../auth/principal';
import type { RunClient } from '../temporal/run-client';
import { requireUuid } from './ids';

/** How long a decision waits for a run that is replaying after a crash to reach the approval the row shows. */
const DECISION_CATCH_UP_MS = 15_000;

function canDecide(a: Approval, p: Principal): boolean {
  return a.status === 'pending' && mayDecide(p.role as DeciderRole, a.assigneeRole ?? undefined) && !a.decisions.some((d) => d.by === 'user' && d.userId === p.userId);
}

function view(a: Approval, workflowName: string | null, p: Principal): ApprovalView {
  return {
    id: a.id,
    executionId: a.executionId,
    workflowId: a.workflowId,
    workflowName,
    nodeId: a.nodeId,
    title: a.title,
    instructions: a.instructions,
    assigneeRole: a.assigneeRole ?? null,
    quorum: a.quorum,
    form: a.form,
    status: a.status,
    decisions: a.decisions,
    context: a.context,
    requestedAt: new Date(a.requestedAt).toISOString(),
    expiresAt: a.expiresAt ? new Date(a.expiresAt).toISOString() : null,
    decidedAt: a.decidedAt ? new Date(a.decidedAt).toISOString() : null,
    canDecide: canDecide(a, p),
  };
}

/** Turns a refusal of the workflow's validator into the API's error. */
function refusalError(err: WorkflowUpdateFailedError): AppError {
  const cause = err.cause;
  const type = cause instanceof ApplicationFailure ? cause.type : undefined;
  if (type && type in DECISION_REFUSALS) {
    const status = DECISION_REFUSALS[type as DecisionRefusal];
    const details = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
    return new AppError(type, status, cause!.message, details);
  }
  return new AppError('DECISION_FAILED', 500, cause?.message ?? err.message);
}

export function createApprovalService(deps: { scope: TenantScope; approvals: ApprovalRepository; executions: ExecutionRepository; runs: RunClient }) {
  const { scope, approvals, executions, runs } = deps;

  async function load(p: Principal, executionId: string, nodeId: string): Promise<Approval> {
    return scope.run(p.tenantId, async () => {
      const e = await executions.find(requireUuid(executionId, 'execution'));
      if (!e) throw new NotFound(`execution ${executionId} not found`);
      const a = await approvals.find(e.id, nodeId);
      if (!a) throw new NotFound(`run ${executionId} has no approval at node ${nodeId}`);
      return a;
    });
  }

  return {
    async list(p: Principal, filter: { status: 'pending' | 'decided' | 'all'; workflowId?: string; executionId?: string; actionable?: boolean; limit: number }) {
      const statuses: ApprovalStatus[] | undefined =
        filter.status === 'pending' ? ['pending'] : filter.status === 'decided' ? [...DECIDED_APPROVAL_STATUSES] : undefined;
      return scope.run(p.tenantId, async () => {
        const rows = await approvals.list({
          limit: filter.limit,
          ...(statuses ? { statuses } : {}),
          ...(filter.workflowId ? { workflowId: requireUuid(filter.workflowId, 'workflow') } : {}),
          ...(filter.executionId ? { executionId: requireUuid(filter.executionId, 'execution') } : {}),
        });
        const items = rows.map((r) => view(r.approval, r.workflowName, p));
        return { items: filter.actionable ? items.filter((i) => i.canDecide) : items };
      });
    },

    async decide(p: Principal, executionId: string, nodeId: string, body: DecisionBody): Promise<{ approval: ApprovalView }> {
      const before = await load(p, executionId, nodeId);
      if (before.status !== 'pending') {
        throw new Conflict(`approval ${nodeId} is already ${before.status}`, { first: before.decisions[0] ?? null, status: before.status });
      }
      if (!mayDecide(p.role as DeciderRole, before.assigneeRole ?? undefined)) {
        throw new Forbidden(`deciding this approval needs the ${before.assigneeRole ?? 'editor'} role or higher`);
      }
      const request = { nodeId, ...body, actor: { kind: 'user' as const, userId: p.userId, email: p.email, role: p.role as DeciderRole } };
      // The row says pending, so the run opened this approval. Right after a worker crash the run's state is
      // rebuilt by replay, and a decision arriving before replay reaches the approval is refused as unknown:
      // wait for the run to catch up (bounded) instead of answering 404 for an approval the inbox shows.
      const catchUpDeadline = Date.now() + DECISION_CATCH_UP_MS;
      for (;;) {
        try {
          await runs.decide(p.tenantId, before.executionId, request);
          break;
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError) {
            const refusal = refusalError(err);
            if (refusal.code === 'UNKNOWN_APPROVAL' && Date.now() < catchUpDeadline) {
              await new Promise((resolve) => setTimeout(resolve, 250));
              continue;
            }
            throw refusal;
          }
          if (err instanceof WorkflowNotFoundError) throw new Conflict(`run ${executionId} is no longer running`);
          throw err;
        }
      }
      const after = await scope.run(p.tenantId, async () => {
        const rows = await approvals.list({ executionId: before.executionId, limit: 1000 });
        return rows.find((r) => r.approval.nodeId === nodeId)!;
      });
      return { approval: view(after.approval, after.workflowName, p) };
    },
  };
}

export type ApprovalService = ReturnType<typeof createApprovalService>;
