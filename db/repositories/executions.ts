// Executions as users query them: rows, per-node state and the stored event log, inside the tenant scope.
import { In } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

import { OPEN_NODE_STATUSES, type ExecutionEvent, type ExecutionStatus } from '../../core/events';
import type { RunRecord } from '../../core/run-start';
import { EventLog, EXECUTION_LOG } from '../event-log';
import type { TenantScope } from '../tenant-scope';
import { Approval, Execution, NodeExecution, Workflow } from '../entities/tenant';
import { groupCostSql } from './usage-cost';
import type { ModelPrices } from '../../core/model-prices';

/** What core/run-start.ts prepares: every start of a run records its row through `insert`. */
export type NewExecution = RunRecord;

/** Where a page of executions ends: created_at as an ISO 8601 UTC string to the microsecond, and the id. */
export interface ExecutionPageKey {
  createdAt: string;
  id: string;
}

/** `select` lists that name each column as its entity property, so plain rows have the entities' shape. */
const EXECUTION_COLUMNS = [
  'id',
  'admitted_at as "admittedAt"',
  'workflow_id as "workflowId"',
  'workflow_version as "workflowVersion"',
  'status',
  'inputs',
  'outputs',
  'error',
  'plan',
  'usage',
  'idempotency_key as "idempotencyKey"',
  'temporal_workflow_id as "temporalWorkflowId"',
  'temporal_run_id as "temporalRunId"',
  'started_by as "startedBy"',
  'trigger',
  'parent_execution_id as "parentExecutionId"',
  'last_seq as "lastSeq"',
  'cancelled_by as "cancelledBy"',
  'created_at as "createdAt"',
  'started_at as "startedAt"',
  'finished_at as "finishedAt"',
  'retry_of as "retryOf"',
].join(', ');

const NODE_COLUMNS = [
  'execution_id as "executionId"',
  'node_id as "nodeId"',
  'node_type as "nodeType"',
  'status',
  'attempts',
  'input',
  'output',
  'error',
  'usage',
  'started_at as "startedAt"',
  'finished_at as "finishedAt"',
].join(', ');

export class ExecutionRepository {
  private readonly log: EventLog;

  constructor(private readonly scope: TenantScope) {
    this.log = new EventLog(scope, EXECUTION_LOG);
  }

  /** Inserts the execution and one pending row per node of its plan. */
  async insert(input: NewExecution): Promise<Execution> {
    const m = this.scope.manager();
    await m.insert(Execution, {
      id: input.id,
      workflowId: input.workflowId,
      workflowVersion: input.workflowVersion,
      status: 'pending',
      inputs: input.inputs,
      plan: input.plan,
      idempotencyKey: input.idempotencyKey,
      temporalWorkflowId: input.temporalWorkflowId,
      startedBy: input.startedBy,
      trigger: input.trigger,
      parentExecutionId: input.parentExecutionId ?? null,
      retryOf: input.retryOf ?? null,
    } as QueryDeepPartialEntity<Execution>); // jsonb columns defeat TypeORM's deep-partial typing

    await m.insert(
      NodeExecution,
      input.plan.nodes.map((n) => ({ executionId: input.id, nodeId: n.id, nodeType: n.type, status: 'pending' as const, attempts: 0 })),
    );
    return m.findOneByOrFail(Execution, { id: input.id });
  }

  /** By id, in one plain statement: every read of a run starts here (TypeORM's findOne costs several times the CPU). */
  async find(id: string): Promise<Execution | null> {
    const rows = (await this.scope.manager().query(`select ${EXECUTION_COLUMNS} from executions where id = $1`, [id])) as Execution[];
    return rows[0] ?? null;
  }

  async findByIdempotencyKey(key: string): Promise<Execution | null> {
    return this.scope.manager().findOne(Execution, { where: { idempotencyKey: key } });
  }

  /** The node rows of a loaded execution, in its plan's order (the caller has the plan: no second read of it). */
  async nodes(execution: Pick<Execution, 'id' | 'plan'>): Promise<NodeExecution[]> {
    const rows = (await this.scope.manager().query(`select ${NODE_COLUMNS} from node_executions where execution_id = $1`, [execution.id])) as NodeExecution[];
    const order = new Map(execution.plan.nodes.map((n, i) => [n.id, i]));
    return rows.sort((a, b) => (order.get(a.nodeId) ?? 0) - (order.get(b.nodeId) ?? 0));
  }

  /** The status and outputs of the runs among `ids` that exist (a map node's item runs, read back in one statement). */
  async outcomes(ids: string[]): Promise<Array<Pick<Execution, 'id' | 'status' | 'outputs'>>> {
    if (!ids.length) return [];
    return (await this.scope.manager().query('select id, status, outputs from executions where id = any($1::uuid[])', [ids])) as Array<Pick<Execution, 'id' | 'status' | 'outputs'>>;
  }

  async setTemporalRunId(id: string, runId: string): Promise<void> {
    await this.scope.manager().update(Execution, { id }, { temporalRunId: runId });
  }

  /**
   * Keyset pagination on (created_at, id), newest first. Each row comes with its page key, whose time is
   * created_at to the microsecond as PostgreSQL stores it: a key cut to a JavaScript Date's milliseconds would
   * skip the rows created later in the same millisecond than the last one of a page.
   */
  async list(filter: {
    workflowId?: string;
    statuses?: ExecutionStatus[];
    /** Trigger types (`trigger.type`) to keep. */
    triggers?: string[];
    /** Runs created at or after `from` and before `to`. */
    from?: Date;
    to?: Date;
    limit: number;
    cursor?: ExecutionPageKey;
  }): Promise<(Execution & { pageKey: ExecutionPageKey })[]> {
    const qb = this.scope
      .manager()
      .createQueryBuilder(Execution, 'e')
      .select(['e.id', 'e.workflowId', 'e.workflowVersion', 'e.status', 'e.error', 'e.usage', 'e.startedBy', 'e.trigger', 'e.cancelledBy', 'e.createdAt', 'e.startedAt', 'e.finishedAt', 'e.temporalWorkflowId', 'e.temporalRunId', 'e.retryOf', 'e.parentExecutionId', 'e.admittedAt'])
      .orderBy('e.created_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .take(filter.limit);
    if (filter.workflowId) qb.andWhere('e.workflow_id = :wf', { wf: filter.workflowId });
    if (filter.statuses?.length) qb.andWhere('e.status in (:...st)', { st: filter.statuses });
    if (filter.triggers?.length) qb.andWhere("e.trigger->>'type' in (:...tt)", { tt: filter.triggers });
    if (filter.from) qb.andWhere('e.created_at >= :from', { from: filter.from });
    if (filter.to) qb.andWhere('e.created_at < :to', { to: filter.to });
    qb.addSelect(`to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, 'page_at');
    if (filter.cursor) {
      qb.andWhere('(e.created_at, e.id) < (cast(:ca as timestamptz), cast(:cid as uuid))', { ca: filter.cursor.createdAt, cid: filter.cursor.id });
    }
    // No joins, so raw rows and entities pair up one to one.
    const { raw, entities } = await qb.getRawAndEntities<{ page_at: string }>();
    return entities.map((e, i) => Object.assign(e, { pageKey: { createdAt: raw[i]!.page_at, id: e.id } }));
  }

  /**
   * What a list row shows beside the run: its workflow's name (kept for a deleted workflow, whose runs stay
   * listed) and what its tokens cost at `prices` (null when some of them are on a model without a price).
   */
  async listDetails(ids: string[], prices: ModelPrices): Promise<Map<string, { workflowName: string | null; costUsd: number | null }>> {
    if (!ids.length) return new Map();
    const rows = (await this.scope.manager().query(
      `select e.id, w.name as "workflowName", c.cost as "costUsd"
         from executions e
         left join workflows w on w.id = e.workflow_id
         left join lateral (select ${groupCostSql('$2::jsonb')} as cost from node_executions n where n.execution_id = e.id and n.usage is not null) c on true
        where e.id = any($1::uuid[])`,
      [ids, JSON.stringify(prices)],
    )) as Array<{ id: string; workflowName: string | null; costUsd: number | null }>;
    return new Map(rows.map((r) => [r.id, { workflowName: r.workflowName, costUsd: r.costUsd }]));
  }

  /** Whether the tenant has (or had: deleted ones keep their runs) the workflow `id`. */
  async hasWorkflow(id: string): Promise<boolean> {
    return (await this.scope.manager().count(Workflow, { where: { id }, withDeleted: true })) > 0;
  }

  /** The handle each node took, as its `node.succeeded` event recorded it (what a retry keeps, core/retry-plan.ts). */
  async succeededHandles(executionId: string): Promise<Record<string, string | null>> {
    const rows = (await this.scope
      .manager()
      .query(`select node_id, data->>'handle' as handle from execution_events where execution_id = $1 and type = 'node.succeeded'`, [executionId])) as Array<{ node_id: string; handle: string | null }>;
    return Object.fromEntries(rows.map((r) => [r.node_id, r.handle]));
  }

  async events(executionId: string, afterSeq: number, limit = 1000): Promise<ExecutionEvent[]> {
    return this.log.after(executionId, afterSeq, limit);
  }

  /** Marks non-terminal node rows with the given status (used when Temporal says the run is over). */
  async settleOpenNodes(executionId: string, status: 'cancelled' | 'failed', at: Date): Promise<void> {
    const m = this.scope.manager();
    await m.update(NodeExecution, { executionId, status: In([...OPEN_NODE_STATUSES]) }, { status, finishedAt: at });
    await m.update(Approval, { executionId, status: 'pending' }, { status: 'cancelled', decidedAt: at });
  }

  async updateStatus(id: string, changes: Partial<Pick<Execution, 'status' | 'error' | 'outputs' | 'finishedAt' | 'startedAt' | 'cancelledBy'>>): Promise<void> {
    await this.scope.manager().update(Execution, { id }, changes as QueryDeepPartialEntity<Execution>);
  }
}
