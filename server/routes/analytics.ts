// GET /api/v1/analytics: the tenant's run figures over a time range for the dashboard (docs/analytics.md),
// declared once (server/http/route.ts) for serving and for the OpenAPI document.
import { z } from 'zod';
import { principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import { instantParam, rangeIssue } from '../http/time-range';
import type { AnalyticsService } from '../services/analytics-service';

/** The longest range one read covers. */
export const ANALYTICS_MAX_DAYS = 366;
/** The range when `from` is left out: the 30 days before `to`. */
export const ANALYTICS_DEFAULT_DAYS = 30;

const DAY_MS = 86_400_000;

export const analyticsQuery = z
  .object({
    /** Runs created at or after this instant (default: 30 days before `to`). */
    from: instantParam('from').optional(),
    /** Runs created before this instant (default: now). */
    to: instantParam('to').optional(),
    workflowId: z.string().max(100).optional(),
  })
  .transform((q, ctx) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - ANALYTICS_DEFAULT_DAYS * DAY_MS);
    const issue = rangeIssue(from, to);
    if (issue) ctx.addIssue(issue);
    else if (to.getTime() - from.getTime() > ANALYTICS_MAX_DAYS * DAY_MS) ctx.addIssue({ code: 'custom', path: ['to'], message: `the range is at most ${ANALYTICS_MAX_DAYS} days` });
    return { from, to, ...(q.workflowId ? { workflowId: q.workflowId } : {}) };
  });

export interface AnalyticsRouteDeps {
  analytics: AnalyticsService;
}

const route = routeFor<AnalyticsRouteDeps>();

export const analyticsRoutes = [
  route({
    method: 'get',
    path: '/analytics',
    summary: 'Run figures over a time range: runs per day by status, p50/p95 duration, tokens and cost per model, top failing nodes',
    description:
      'Over the runs created in [from, to) (default: the last 30 days; at most 366), optionally of one workflow (404 when the tenant has none with that id). Days are UTC days; every day of the range is listed. Cost is in USD at MODEL_PRICES and null where some tokens are on a model without a price.',
    tag: 'analytics',
    role: 'viewer',
    query: analyticsQuery,
    status: 200,
    response: 'The figures (AnalyticsView): totals, runsPerDay, duration, models, failingNodes',
    handle: ({ analytics }, { req, query }) => analytics.read(principalOf(req).tenantId, query),
  }),
];
