// Webhooks of a workflow: POST|GET /api/v1/workflows/:id/webhooks, DELETE /api/v1/webhooks/:id (DESIGN.md
// §8). The secret is in the create answer only. Editors write, viewers read; writes are audited. The
// deliveries themselves go to POST /hooks/:id (server/routes/hooks.ts), outside /api/v1.
import type { Request } from 'express';
import type { TenantScope } from '../../db';
import { principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import type { AuditTrail } from '../security/audit-trail';
import type { WebhookService } from '../services/webhook-service';

/** The origin the caller reached the API at (behind a loopback proxy, what it forwarded): where hooks are. */
function originOf(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

const route = routeFor<{ scope: TenantScope; webhooks: WebhookService; audit: AuditTrail }>();

export const webhookRoutes = [
  route({
    method: 'get',
    path: '/workflows/:id/webhooks',
    summary: "List a workflow's webhooks (never their secrets)",
    tag: 'webhooks',
    role: 'viewer',
    status: 200,
    response: 'The webhooks {id, workflowId, url, createdAt}',
    takesId: true,
    handle: async ({ webhooks }, { req, id }) => ({ webhooks: await webhooks.list(principalOf(req).tenantId, id, originOf(req)) }),
  }),
  route({
    method: 'post',
    path: '/workflows/:id/webhooks',
    summary: 'Create a webhook: POST its url with X-Tessera-Signature: sha256=<hex HMAC-SHA256 of the body under the secret> to start a run',
    tag: 'webhooks',
    role: 'editor',
    status: 201,
    response: 'The webhook {id, url, secret}; the secret is shown this once',
    takesId: true,
    handle: ({ scope, webhooks, audit }, { req, id }) => {
      const p = principalOf(req);
      return scope.run(p.tenantId, async () => {
        const h = await webhooks.create(p.tenantId, id, p.kind === 'api_key' ? null : p.userId, originOf(req));
        await audit.record(p.tenantId, p, req, { action: 'webhook.create', targetType: 'webhook', targetId: h.id, details: { workflowId: h.workflowId } });
        return h;
      });
    },
  }),
  route({
    method: 'delete',
    path: '/webhooks/:id',
    summary: 'Delete a webhook (its URL answers 404 from then on)',
    tag: 'webhooks',
    role: 'editor',
    status: 204,
    response: 'Deleted',
    takesId: true,
    idNames: 'webhook',
    handle: async ({ scope, webhooks, audit }, { req, id }) => {
      const p = principalOf(req);
      await scope.run(p.tenantId, async () => {
        const h = await webhooks.remove(id);
        await audit.record(p.tenantId, p, req, { action: 'webhook.delete', targetType: 'webhook', targetId: h.id, details: { workflowId: h.workflowId } });
      });
    },
  }),
];
