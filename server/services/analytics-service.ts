// The dashboard's use case: a tenant's run figures over a time range, read in its own schema and shaped as
// the API answers them (core/api-views.ts AnalyticsView): every day of the range present, tokens priced at
// MODEL_PRICES.
import type { AnalyticsView } from '../../core/api-views';
import { NotFound } from '../../core/errors';
import type { ExecutionStatus } from '../../core/events';
import type { ModelPrices } from '../../core/model-prices';
import type { AnalyticsRepository, ExecutionRepository, TenantScope } from '../../db';
import { requireUuid } from './ids';

export interface AnalyticsServiceDeps {
  scope: TenantScope;
  analytics: AnalyticsRepository;
  executions: ExecutionRepository;
  modelPrices: ModelPrices;
}

const DAY_MS = 86_400_000;

/** Every UTC day (`YYYY-MM-DD`) that [from, to) touches. */
export function utcDays(from: Date, to: Date): string[] {
  const days: string[] = [];
  const first = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  for (let t = first; t < to.getTime(); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

export function createAnalyticsService(deps: AnalyticsServiceDeps) {
  const { scope, analytics, executions } = deps;

  return {
    async read(tenantId: string, query: { from: Date; to: Date; workflowId?: string }): Promise<AnalyticsView> {
      const range = { from: query.from, to: query.to, ...(query.workflowId ? { workflowId: requireUuid(query.workflowId, 'workflow') } : {}) };
      return scope.run(tenantId, async () => {
        if (range.workflowId && !(await executions.hasWorkflow(range.workflowId))) throw new NotFound(`workflow ${range.workflowId} not found`);
        // One transaction, one connection: the four statements run one after another on it.
        const perDay = await analytics.runsPerDay(range);
        const durations = await analytics.durations(range);
        const models = await analytics.perModel(range, deps.modelPrices);
        const failingNodes = await analytics.failingNodes(range);

        const byDay = new Map<string, { total: number; byStatus: Partial<Record<ExecutionStatus, number>> }>();
        for (const day of utcDays(range.from, range.to)) byDay.set(day, { total: 0, byStatus: {} });
        for (const row of perDay) {
          const day = byDay.get(row.day) ?? { total: 0, byStatus: {} };
          day.byStatus[row.status as ExecutionStatus] = row.runs;
          day.total += row.runs;
          byDay.set(row.day, day);
        }
        const sum = (pick: (m: (typeof models)[number]) => number) => models.reduce((acc, m) => acc + pick(m), 0);
        return {
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          workflowId: range.workflowId ?? null,
          totals: {
            runs: perDay.reduce((acc, r) => acc + r.runs, 0),
            inputTokens: sum((m) => m.inputTokens),
            outputTokens: sum((m) => m.outputTokens),
            totalTokens: sum((m) => m.totalTokens),
            costUsd: models.some((m) => m.costUsd === null) ? null : sum((m) => m.costUsd ?? 0),
          },
          runsPerDay: [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, v]) => ({ day, ...v })),
          duration: { ...durations.overall, perDay: durations.days },
          models,
          failingNodes,
        };
      });
    },
  };
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;
