// Runs: POST /api/v1/workflows/:id/executions starts one; /api/v1/executions reads, lists, streams
// stored events and cancels.
import { Router } from 'express';
import { z } from 'zod';
import { EXECUTION_STATUSES } from '../../core/events';
import { ValidationFailed } from '../../core/errors';
import { actorOf, principalOf } from '../auth/principal';
import { parseWith } from '../http/validate';
import { idOf } from '../http/params';
import { requireRole } from '../rbac';
import type { ExecutionService } from '../services/execution-service';

export const startExecutionBody = z.object({
  inputs: z.record(z.string(), z.unknown()).default({}),
  version: z.number().int().positive().optional(),
});

export const listExecutionsQuery = z.object({
  workflowId: z.string().max(100).optional(),
  status: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').map((x) => x.trim()) : undefined))
    .pipe(z.array(z.enum(EXECUTION_STATUSES)).optional()),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
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

export function createStartExecutionRouter(deps: { executions: ExecutionService; onStarted?: (created: boolean) => void }): Router {
  const router = Router({ mergeParams: true });
  router.post('/:id/executions', requireRole('editor'), async (req, res) => {
    const p = principalOf(req);
    const body = parseWith(startExecutionBody, req.body ?? {}, 'body');
    const key = req.get('Idempotency-Key') ?? null;
    if (key !== null && !IDEMPOTENCY_KEY.test(key)) {
      throw new ValidationFailed('Idempotency-Key must be 1 to 200 printable ASCII characters', { header: 'Idempotency-Key' });
    }
    const { execution, created } = await deps.executions.start(p.tenantId, actorOf(p).label, idOf(req), body, key);
    deps.onStarted?.(created);
    res.status(202).set('Location', `/api/v1/executions/${execution.id}`);
    if (!created) res.set('Idempotent-Replayed', 'true');
    res.json({ id: execution.id, status: execution.status, temporal: { workflowId: execution.temporal.workflowId, runId: execution.temporal.runId }, execution });
  });
  return router;
}

export function createExecutionsRouter(deps: { executions: ExecutionService }): Router {
  const { executions } = deps;
  const router = Router();

  router.get('/', async (req, res) => {
    const q = parseWith(listExecutionsQuery, req.query, 'query');
    res.json(
      await executions.list(principalOf(req).tenantId, {
        limit: q.limit,
        ...(q.workflowId ? { workflowId: q.workflowId } : {}),
        ...(q.status ? { statuses: q.status } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      }),
    );
  });

  router.get('/:id', async (req, res) => {
    const q = parseWith(getExecutionQuery, req.query, 'query');
    res.json(await executions.get(principalOf(req).tenantId, idOf(req), { refresh: q.refresh }));
  });

  router.get('/:id/events', async (req, res) => {
    const q = parseWith(eventsQuery, req.query, 'query');
    res.json(await executions.events(principalOf(req).tenantId, idOf(req), q.after, q.limit));
  });

  router.post('/:id/cancel', requireRole('editor'), async (req, res) => {
    const p = principalOf(req);
    res.status(202).json(await executions.cancel(p.tenantId, idOf(req), actorOf(p).label));
  });

  return router;
}
