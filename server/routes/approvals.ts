// Approvals: GET /api/v1/approvals (the inbox across runs) and
// POST /api/v1/executions/:id/approvals/:nodeId (approve or reject, with comment and form data), each
// declared once (server/http/route.ts), for serving and for the OpenAPI document.
import { z } from 'zod';
import { decisionBodySchema, type DecisionBody } from '../../core/approval';
import { principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import { parseWith } from '../http/validate';
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

/** `onDecided` is told of every decision taken (the API's metrics). */
const route = routeFor<{ approvals: ApprovalService; onDecided?: (decision: DecisionBody['decision']) => void }>();

export const approvalRoutes = [
  route({
    method: 'get',
    path: '/approvals',
    summary: 'Approvals across runs (the inbox)',
    tag: 'approvals',
    role: 'viewer',
    query: listApprovalsQuery,
    status: 200,
    response: 'The approvals, newest first, each with what the caller may do with it',
    handle: ({ approvals }, { req, query }) =>
      approvals.list(principalOf(req), {
        status: query.status,
        actionable: query.actionable,
        limit: query.limit,
        ...(query.workflowId ? { workflowId: query.workflowId } : {}),
        ...(query.executionId ? { executionId: query.executionId } : {}),
      }),
  }),
  route({
    method: 'post',
    path: '/executions/:id/approvals/:nodeId',
    summary: 'Approve or reject an approval of a run',
    tag: 'approvals',
    role: 'editor',
    body: decisionBodySchema,
    status: 200,
    response: 'The decided approval',
    takesId: true,
    audit: { action: 'approval.decide', targetType: 'execution' },
    handle: async ({ approvals, onDecided }, { req, body, id }) => {
      const nodeId = parseWith(nodeIdParam, req.params.nodeId, 'params');
      const decided = await approvals.decide(principalOf(req), id, nodeId, body);
      onDecided?.(body.decision);
      return decided;
    },
  }),
];
