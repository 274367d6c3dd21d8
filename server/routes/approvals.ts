// Approvals: GET /api/v1/approvals (the inbox across runs) and
// POST /api/v1/executions/:id/approvals/:nodeId (approve or reject, with comment and form data).
import { Router } from 'express';
import { z } from 'zod';
import { decisionBodySchema } from '../../core/approval';
import { principalOf } from '../auth/principal';
import { idOf } from '../http/params';
import { parseWith } from '../http/validate';
import { requireRole } from '../rbac';
import type { ApprovalService } from '../services/approval-service';

export const listApprovalsQuery = z.object({
  status: z.enum(['pending', 'decided', 'all']).default('pending'),
  workflowId: z.string().max(100).optional(),
  executionId: z.string().max(100).optional(),
  actionable: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const nodeIdParam = z.string().min(1).max(200);

export function createApprovalsRouter(deps: { approvals: ApprovalService }): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const q = parseWith(listApprovalsQuery, req.query, 'query');
    res.json(
      await deps.approvals.list(principalOf(req), {
        status: q.status,
        actionable: q.actionable,
        limit: q.limit,
        ...(q.workflowId ? { workflowId: q.workflowId } : {}),
        ...(q.executionId ? { executionId: q.executionId } : {}),
      }),
    );
  });
  return router;
}

export function createDecisionRouter(deps: { approvals: ApprovalService }): Router {
  const router = Router();
  router.post('/:id/approvals/:nodeId', requireRole('editor'), async (req, res) => {
    const nodeId = parseWith(nodeIdParam, req.params.nodeId, 'params');
    const body = parseWith(decisionBodySchema, req.body, 'body');
    res.json(await deps.approvals.decide(principalOf(req), idOf(req), nodeId, body));
  });
  return router;
}
