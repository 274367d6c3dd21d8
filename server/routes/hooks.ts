// POST /hooks/:id: a webhook delivery. No authentication but the signature, which is checked over the raw
// body (read here before any JSON parsing, up to WEBHOOK_MAX_BODY_BYTES), so it must stay outside /api/v1
// and its parser. `?wait=<1-30>` answers 200 with the outputs when the run ends within that many seconds,
// else 202 with the execution's id and status, as does a delivery without `wait`.
import express, { type Router } from 'express';
import { z } from 'zod';
import { parseWith } from '../http/validate';
import type { WebhookService } from '../services/webhook-service';

export const hookQuery = z.object({ wait: z.coerce.number().int().min(1, 'wait is 1 to 30 seconds').max(30, 'wait is 1 to 30 seconds').optional() });

export type WebhookOutcome = 'started' | 'replayed' | 'bad_signature' | 'unknown_hook' | 'rate_limited' | 'rejected' | 'error';

/** What a delivery came to, from its answer: a bounded label for the API's metrics. */
function outcomeOf(status: number, replayed: boolean): WebhookOutcome {
  if (status < 300) return replayed ? 'replayed' : 'started';
  if (status === 401) return 'bad_signature';
  if (status === 404) return 'unknown_hook';
  if (status === 429) return 'rate_limited';
  return status < 500 ? 'rejected' : 'error';
}

/** `onDelivery` is told how each delivery ended, `onStarted` of each run a delivery started (the API's metrics). */
export function createHooksRouter(deps: { webhooks: WebhookService; maxBodyBytes: number; onDelivery?: (outcome: WebhookOutcome) => void; onStarted?: () => void }): Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.on('finish', () => deps.onDelivery?.(outcomeOf(res.statusCode, res.get('Idempotent-Replayed') === 'true')));
    next();
  });
  router.post('/:id', express.raw({ type: () => true, limit: deps.maxBodyBytes }), async (req, res) => {
    const query = parseWith(hookQuery, req.query, 'query');
    const answer = await deps.webhooks.deliver({
      hookId: String(req.params.id),
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      signature: req.get('X-Tessera-Signature'),
      deliveryId: req.get('X-Tessera-Delivery'),
      waitMs: (query.wait ?? 0) * 1000,
    });
    res.set('Location', `/api/v1/executions/${answer.executionId}`);
    if (!answer.created) res.set('Idempotent-Replayed', 'true');
    else deps.onStarted?.();
    if ('outputs' in answer) res.status(200).json({ executionId: answer.executionId, status: answer.status, outputs: answer.outputs });
    else res.status(202).json({ executionId: answer.executionId, status: answer.status });
  });
  return router;
}
