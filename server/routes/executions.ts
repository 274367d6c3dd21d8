// Runs: POST /api/v1/workflows/:id/executions starts one; /api/v1/executions reads, lists, streams
// stored events, cancels and retries. Each route is declared once (server/http/route.ts), for serving and for the
// OpenAPI document.
import type { Request, Response } from 'express';
import { z } from 'zod';
import { EXECUTION_TRIGGER_TYPES, type ExecutionView } from '../../core/api-views';
import { EXECUTION_STATUSES } from '../../core/events';
import { ValidationFailed } from '../../core/errors';
import { actorOf, principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import { instantParam, rangeIssue } from '../http/time-range';
import type { ExecutionService } from '../services/execution-service';

export const startExecutionBody = z.object({
  inputs: z.record(z.string(), z.unknown()).default({}),
  version: z.number().int().positive().optional(),
});

/** POST /executions/:id/retry: where to start again (default: the failed node) and on which version. */
export const retryExecutionBody = z.object({
  fromNodeId: z.string().min(1).max(200).optional(),
  version: z.enum(['original', 'latest']).default('original'),
});

export const listExecutionsQuery = z.object({
  workflowId: z.string().max(100).optional(),
  status: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').map((x) => x.trim()) : undefined))
    .pipe(z.array(z.enum(EXECUTION_STATUSES)).optional()),
  /** What started the runs (one trigger type or several, comma-separated). */
  trigger: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').map((x) => x.trim()) : undefined))
    .pipe(z.array(z.enum(EXECUTION_TRIGGER_TYPES)).optional()),
  /** Runs created at or after this instant. */
  from: instantParam('from').optional(),
  /** Runs created before this instant. */
  to: instantParam('to').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
}).superRefine((q, ctx) => {
  const issue = rangeIssue(q.from ? new Date(q.from) : undefined, q.to ? new Date(q.to) : undefined);
  if (issue) ctx.addIssue(issue);
});

export const eventsQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});

/** `?refresh=true` asks Temporal how the run stands even when its row is not stale (server/services/repair-gate.ts). */
export const getExecutionQuery = z.object({
  refresh: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true'),
});

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** The request's Idempotency-Key header, checked; null without one. */
function idempotencyKeyOf(req: Request): string | null {
  const key = req.get('Idempotency-Key') ?? null;
  if (key !== null && !IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationFailed('Idempotency-Key must be 1 to 200 printable ASCII characters', { header: 'Idempotency-Key' });
  }
  return key;
}

/** What a start answers (POST /workflows/:id/executions and POST /executions/:id/retry), with its headers. */
function startedAnswer(res: Response, execution: ExecutionView, created: boolean) {
  res.set('Location', `/api/v1/executions/${execution.id}`);
  if (!created) res.set('Idempotent-Replayed', 'true');
  // `queued`: pending while it waits for a slot of the tenant's share (RUNS_MAX_CONCURRENT_PER_TENANT, run admission).
  return { id: execution.id, status: execution.status, ...(execution.queued !== undefined ? { queued: execution.queued } : {}), temporal: { workflowId: execution.temporal.workflowId, runId: execution.temporal.runId }, execution };
}

export interface ExecutionRouteDeps {
  executions: ExecutionService;
  /** Told of every start answered 202, with what started it (the API's metrics). */
  onStarted?: (created: boolean, trigger: string) => void;
}

const route = routeFor<ExecutionRouteDeps>();

export const executionRoutes = [
  route({
    method: 'post',
    path: '/workflows/:id/executions',
    summary: 'Start a run (Idempotency-Key header supported)',
    tag: 'executions',
    role: 'editor',
    body: startExecutionBody,
    bodyOptional: true,
    headers: [{ name: 'Idempotency-Key', description: 'A second start with the same key answers the first run (Idempotent-Replayed: true)', schema: { type: 'string', maxLength: 200 } }],
    status: 202,
    response: 'The run, started (Location: the run)',
    takesId: true,
    rateLimit: 'runStartsPerTenant',
    handle: async ({ executions, onStarted }, { req, res, body, id }) => {
      const p = principalOf(req);
      const { execution, created } = await executions.start(p.tenantId, actorOf(p).label, id, body, idempotencyKeyOf(req));
      onStarted?.(created, execution.trigger.type);
      return startedAnswer(res, execution, created);
    },
  }),
  route({
    method: 'get',
    path: '/executions',
    summary: "List the tenant's runs, filtered by workflow, status, trigger and creation time",
    description:
      'Each row names its workflow (`workflowName`) and what its tokens cost (`costUsd`, USD at MODEL_PRICES; null when some are on a model without a price). `status` and `trigger` take one value or several, comma-separated; `from` (inclusive) and `to` (exclusive) bound the creation time. A `workflowId` the tenant never had is a 404.',
    tag: 'executions',
    role: 'viewer',
    query: listExecutionsQuery,
    status: 200,
    response: 'A page of runs, newest first, and the cursor of the next page (null on the last)',
    handle: ({ executions }, { req, query }) =>
      executions.list(principalOf(req).tenantId, {
        limit: query.limit,
        ...(query.workflowId ? { workflowId: query.workflowId } : {}),
        ...(query.status ? { statuses: query.status } : {}),
        ...(query.trigger ? { triggers: query.trigger } : {}),
        ...(query.from ? { from: new Date(query.from) } : {}),
        ...(query.to ? { to: new Date(query.to) } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
      }),
  }),
  route({
    method: 'get',
    path: '/executions/:id',
    summary: 'Read a run with per-node state (from the database; ?refresh=true also asks Temporal)',
    tag: 'executions',
    role: 'viewer',
    query: getExecutionQuery,
    status: 200,
    response: 'The run and its nodes',
    takesId: true,
    handle: ({ executions }, { req, query, id }) => executions.get(principalOf(req).tenantId, id, { refresh: query.refresh }),
  }),
  route({
    method: 'get',
    path: '/executions/:id/events',
    summary: 'Stored events after a sequence number',
    tag: 'executions',
    role: 'viewer',
    query: eventsQuery,
    status: 200,
    response: "The run's events after `after`, in order, and its last sequence number",
    takesId: true,
    handle: ({ executions }, { req, query, id }) => executions.events(principalOf(req).tenantId, id, query.after, query.limit),
  }),
  route({
    method: 'post',
    path: '/executions/:id/cancel',
    summary: 'Cancel a run',
    tag: 'executions',
    role: 'editor',
    status: 202,
    response: 'The run, its cancellation recorded or on its way',
    takesId: true,
    handle: ({ executions }, { req, id }) => {
      const p = principalOf(req);
      return executions.cancel(p.tenantId, id, actorOf(p).label);
    },
  }),
  route({
    method: 'post',
    path: '/executions/:id/retry',
    summary: 'Retry a finished run from a node (Idempotency-Key header supported): a new run reusing the results of every node not downstream of it',
    tag: 'executions',
    role: 'editor',
    body: retryExecutionBody,
    bodyOptional: true,
    headers: [{ name: 'Idempotency-Key', description: 'A second retry with the same key answers the first one (Idempotent-Replayed: true)', schema: { type: 'string', maxLength: 200 } }],
    status: 202,
    response: 'The new run, started (Location: the run); `retryOf` names the run it retries',
    takesId: true,
    idNames: 'execution',
    rateLimit: 'runStartsPerTenant',
    handle: async ({ executions, onStarted }, { req, res, body, id }) => {
      const p = principalOf(req);
      const { execution, created } = await executions.retry(p.tenantId, actorOf(p).label, id, body, idempotencyKeyOf(req));
      onStarted?.(created, execution.trigger.type);
      return startedAnswer(res, execution, created);
    },
  }),
];
