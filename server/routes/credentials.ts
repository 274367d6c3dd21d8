// /api/v1/credentials: the tenant's LLM provider keys. The secret goes in once and never comes out of the
// API: responses carry id, provider and name only; agent nodes name a credential by id.
import { Router } from 'express';
import { z } from 'zod';
import { NotFound } from '../../core/errors';
import { PROVIDERS } from '../../core/graph';
import type { CredentialRepository, TenantScope } from '../../db';
import { principalOf } from '../auth/principal';
import { idOf } from '../http/params';
import { requireUuid } from '../services/ids';
import { parseWith } from '../http/validate';
import { requireRole } from '../rbac';
import type { AuditTrail } from '../security/audit-trail';

export const createCredentialBody = z.object({
  provider: z.enum(PROVIDERS),
  name: z.string().trim().min(1).max(100),
  secret: z.string().min(1).max(4000),
});

export function createCredentialsRouter(deps: { scope: TenantScope; credentials: CredentialRepository; audit: AuditTrail }): Router {
  const { scope, credentials, audit } = deps;
  const router = Router();

  // Editors list them to pick one for an agent node; only names and providers are shown.
  router.get('/', requireRole('editor'), async (req, res) => {
    res.json({ credentials: await scope.run(principalOf(req).tenantId, () => credentials.list()) });
  });

  router.post('/', requireRole('admin'), async (req, res) => {
    const p = principalOf(req);
    const body = parseWith(createCredentialBody, req.body, 'body');
    const created = await scope.run(p.tenantId, async () => {
      const c = await credentials.create({ provider: body.provider, name: body.name, secret: body.secret, createdBy: p.kind === 'api_key' ? null : p.userId });
      await audit.record(p.tenantId, p, req, { action: 'credential.create', targetType: 'credential', targetId: c.id, details: { provider: c.provider, name: c.name } });
      return c;
    });
    res.status(201).json(created);
  });

  router.delete('/:id', requireRole('admin'), async (req, res) => {
    const p = principalOf(req);
    const id = requireUuid(idOf(req), 'credential');
    await scope.run(p.tenantId, async () => {
      if (!(await credentials.remove(id))) throw new NotFound(`credential ${id} not found`);
      await audit.record(p.tenantId, p, req, { action: 'credential.delete', targetType: 'credential', targetId: id });
    });
    res.status(204).end();
  });

  return router;
}
