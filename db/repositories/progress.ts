// Writes a run's progress in one transaction: node state, execution state and events with a gapless
// per-execution sequence number (db/event-log.ts: idempotent per event key, so a retried activity never
// records an event twice).
import type { ExecutionEvent, ExecutionStatus, NewExecutionEvent, NodeStatus } from '../../core/events';
import { TERMINAL_EXECUTION_STATUSES, TERMINAL_NODE_STATUSES } from '../../core/events';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { TenantScope } from '../tenant-scope';
import type { ApprovalContext, ApprovalStatus, RecordedDecision } from '../../core/approval';
import type { ApprovalData } from '../../core/graph';
import { Approval, Execution, NodeExecution, type ExecutionError, type UsageTotals } from '../entities/tenant';
import { EventLog, EXECUTION_LOG } from '../event-log';

export interface NodeStateUpdate {
  nodeId: string;
  status?: NodeStatus;
  attempts?: number;
  input?: Record<string, unknown> | null;
  output?: unknown;
  error?: ExecutionError | null;
  usage?: UsageTotals | null;
  startedAt?: string;
  finishedAt?: string;
}

export interface ExecutionStateUpdate {
  status?: ExecutionStatus;
  outputs?: Record<string, unknown>;
  error?: ExecutionError | null;
  startedAt?: string;
  finishedAt?: string;
}

/** An approval row to create (first update of a node) or change. */
export interface ApprovalStateUpdate {
  id: string;
  nodeId: string;
  workflowId?: string;
  title?: string;
  instructions?: string | null;
  assigneeRole?: ApprovalData['assigneeRole'] | null;
  quorum?: number;
  form?: ApprovalData['form'] | null;
  context?: ApprovalContext | null;
  status?: ApprovalStatus;
  decisions?: RecordedDecision[];
  requestedAt?: string;
  expiresAt?: string | null;
  decidedAt?: string;
}

export interface ProgressBatch {
  executionId: string;
  events: NewExecutionEvent[];
  nodes?: NodeStateUpdate[];
  execution?: ExecutionStateUpdate;
  approvals?: ApprovalStateUpdate[];
}

export class ExecutionNotFoundError extends Error {
  override name = 'ExecutionNotFoundError';
}

function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL_EXECUTION_STATUSES.includes(status);
}

export class ProgressRepository {
  private readonly log: EventLog;

  constructor(private readonly scope: TenantScope) {
    this.log = new EventLog(scope, EXECUTION_LOG);
  }

  /** Applies the batch and returns the events it newly stored (to publish), in seq order. */
  async apply(batch: ProgressBatch): Promise<ExecutionEvent[]> {
    const m = this.scope.manager();
    // The row lock serialises writers of one execution, which is what keeps seq gapless.
    const execution = await m.findOne(Execution, { where: { id: batch.executionId }, lock: { mode: 'pessimistic_write' } });
    if (!execution) throw new ExecutionNotFoundError(`execution ${batch.executionId} not found`);

    // Once a run is over, late writers (a cancelled turn reporting back) may not reopen it.
    const closed = isTerminal(execution.status);
    for (const update of batch.nodes ?? []) {
      const { nodeId, startedAt, finishedAt, ...rest } = update;
      const changes: Partial<NodeExecution> = { ...(rest as Partial<NodeExecution>) };
      if (startedAt) changes.startedAt = new Date(startedAt);
      if (finishedAt) changes.finishedAt = new Date(finishedAt);
      if (closed && changes.status && !TERMINAL_NODE_STATUSES.includes(changes.status)) {
        delete changes.status;
      }
      if (Object.keys(changes).length) await m.update(NodeExecution, { executionId: batch.executionId, nodeId }, changes as QueryDeepPartialEntity<NodeExecution>);
    }

    for (const update of batch.approvals ?? []) await this.upsertApproval(batch.executionId, update);

    const exec = batch.execution;
    const execChanges: Partial<Execution> = {};
    if (exec && !(closed && exec.status && !isTerminal(exec.status))) {
      if (exec.status && !closed) execChanges.status = exec.status;
      if (exec.outputs !== undefined) execChanges.outputs = exec.outputs;
      if (exec.error !== undefined) execChanges.error = exec.error;
      if (exec.startedAt && !execution.startedAt) execChanges.startedAt = new Date(exec.startedAt);
      if (exec.finishedAt && !execution.finishedAt) execChanges.finishedAt = new Date(exec.finishedAt);
    }
    if (batch.nodes?.some((n) => n.usage)) {
      const [sum] = await m.query(
        `select coalesce(sum((usage->>'inputTokens')::int), 0)::int as "inputTokens",
                coalesce(sum((usage->>'outputTokens')::int), 0)::int as "outputTokens",
                coalesce(sum((usage->>'totalTokens')::int), 0)::int as "totalTokens"
           from node_executions where execution_id = $1 and usage is not null`,
        [batch.executionId],
      );
      execChanges.usage = sum as UsageTotals;
    }

    if (Object.keys(execChanges).length) await m.update(Execution, { id: batch.executionId }, execChanges as QueryDeepPartialEntity<Execution>);
    return this.log.append(batch.executionId, batch.events);
  }

  private async upsertApproval(executionId: string, update: ApprovalStateUpdate): Promise<void> {
    const m = this.scope.manager();
    const { id, nodeId, requestedAt, expiresAt, decidedAt, ...rest } = update;
    const changes: Partial<Approval> = { ...(rest as Partial<Approval>) };
    if (requestedAt) changes.requestedAt = new Date(requestedAt);
    if (expiresAt !== undefined) changes.expiresAt = expiresAt ? new Date(expiresAt) : null;
    if (decidedAt) changes.decidedAt = new Date(decidedAt);
    const existing = await m.findOne(Approval, { where: { executionId, nodeId } });
    if (existing) {
      // A late write (a retried activity) may not reopen a settled approval.
      if (existing.status !== 'pending' && changes.status === 'pending') delete changes.status;
      if (Object.keys(changes).length) await m.update(Approval, { id: existing.id }, changes as QueryDeepPartialEntity<Approval>);
      return;
    }
    await m.insert(Approval, { id, executionId, nodeId, ...changes } as QueryDeepPartialEntity<Approval>);
  }
}
