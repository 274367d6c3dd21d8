// The dashboard's figures, computed by PostgreSQL in the tenant's schema: runs per day by status, run
// durations (p50, p95), tokens and cost per model, and the nodes that fail most, over runs created in a time
// range (optionally of one workflow). Days are UTC days.
import type { ModelPrices } from '../../core/model-prices';
import type { TenantScope } from '../tenant-scope';
import { groupCostSql, NODE_INPUT_TOKENS_SQL, NODE_MODEL_SQL, NODE_OUTPUT_TOKENS_SQL, NODE_PROVIDER_SQL, NODE_TOTAL_TOKENS_SQL } from './usage-cost';

export interface AnalyticsRange {
  from: Date;
  to: Date;
  workflowId?: string;
}

export interface DayStatusCount {
  day: string;
  status: string;
  runs: number;
}

export interface DayDurations {
  day: string;
  /** Finished runs of the day with a start and an end. */
  runs: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface ModelUsageRow {
  provider: string;
  model: string | null;
  runs: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  costUsd: number | null;
}

export interface FailingNodeRow {
  workflowId: string;
  workflowName: string | null;
  nodeId: string;
  nodeType: string;
  failures: number;
  lastFailedAt: string | null;
  lastError: { code: string; message: string } | null;
}

/** Top failing nodes listed. */
export const FAILING_NODES_LIMIT = 10;

/** `where` over executions `e` in the range: $1 from, $2 to, $3 the workflow (null: all). */
const IN_RANGE = `e.created_at >= $1 and e.created_at < $2 and ($3::uuid is null or e.workflow_id = $3::uuid)`;

const DURATION_MS = `extract(epoch from (e.finished_at - e.started_at)) * 1000`;

export class AnalyticsRepository {
  constructor(private readonly scope: TenantScope) {}

  private query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.scope.manager().query(sql, params) as Promise<T[]>;
  }

  private params(range: AnalyticsRange): unknown[] {
    return [range.from, range.to, range.workflowId ?? null];
  }

  /** Runs per UTC day and status (days without runs are left out). */
  runsPerDay(range: AnalyticsRange): Promise<DayStatusCount[]> {
    return this.query<DayStatusCount>(
      `select to_char(date_trunc('day', e.created_at at time zone 'UTC'), 'YYYY-MM-DD') as day, e.status, count(*)::int as runs
         from executions e where ${IN_RANGE}
        group by 1, 2 order by 1, 2`,
      this.params(range),
    );
  }

  /** p50 and p95 of how long finished runs took, per UTC day of their creation, and over the whole range (`day` null). */
  async durations(range: AnalyticsRange): Promise<{ days: DayDurations[]; overall: Omit<DayDurations, 'day'> }> {
    const rows = await this.query<DayDurations & { day: string | null }>(
      `select d.day, count(*)::int as runs,
              percentile_cont(0.5) within group (order by d.ms)::float8 as "p50Ms",
              percentile_cont(0.95) within group (order by d.ms)::float8 as "p95Ms"
         from (select to_char(date_trunc('day', e.created_at at time zone 'UTC'), 'YYYY-MM-DD') as day, ${DURATION_MS} as ms
                 from executions e
                where ${IN_RANGE} and e.started_at is not null and e.finished_at is not null) d
        group by grouping sets ((d.day), ())
        order by d.day nulls first`,
      this.params(range),
    );
    const overall = rows.find((r) => r.day === null);
    return {
      days: rows.filter((r) => r.day !== null),
      overall: { runs: overall?.runs ?? 0, p50Ms: overall?.p50Ms ?? null, p95Ms: overall?.p95Ms ?? null },
    };
  }

  /** Tokens and their cost per provider and model, most tokens first. */
  perModel(range: AnalyticsRange, prices: ModelPrices): Promise<ModelUsageRow[]> {
    return this.query<ModelUsageRow>(
      `select ${NODE_PROVIDER_SQL} as provider, ${NODE_MODEL_SQL} as model, count(distinct n.execution_id)::int as runs,
              sum(${NODE_INPUT_TOKENS_SQL})::float8 as "inputTokens", sum(${NODE_OUTPUT_TOKENS_SQL})::float8 as "outputTokens",
              sum(${NODE_TOTAL_TOKENS_SQL})::float8 as "totalTokens", ${groupCostSql('$4::jsonb')} as "costUsd"
         from node_executions n join executions e on e.id = n.execution_id
        where ${IN_RANGE} and n.usage is not null
        group by 1, 2
        order by "totalTokens" desc, 1, 2`,
      [...this.params(range), JSON.stringify(prices)],
    );
  }

  /** The nodes that failed most often (per workflow and node id), with their latest error. */
  failingNodes(range: AnalyticsRange, limit = FAILING_NODES_LIMIT): Promise<FailingNodeRow[]> {
    return this.query<FailingNodeRow>(
      `select e.workflow_id as "workflowId", w.name as "workflowName", n.node_id as "nodeId", n.node_type as "nodeType",
              count(*)::int as failures,
              to_char(max(n.finished_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "lastFailedAt",
              (array_agg(n.error order by n.finished_at desc nulls last))[1] as "lastError"
         from node_executions n
         join executions e on e.id = n.execution_id
         left join workflows w on w.id = e.workflow_id
        where ${IN_RANGE} and n.status = 'failed'
        group by e.workflow_id, w.name, n.node_id, n.node_type
        order by failures desc, max(n.finished_at) desc nulls last
        limit $4`,
      [...this.params(range), limit],
    );
  }
}
