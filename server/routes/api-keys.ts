// /api/v1/api-keys: keys for programs. The key is in the creation response only; afterwards a key is
// known by its prefix. A key's role is at most its creator's and never owner.
import { Router } from 'express';
import { z } from 'zod';
import { Forbidden, NotFound } from '../../core/errors';
import type { ApiKeyRecord, ApiKeyRepository } from '../../db';
import { principalOf } from '../auth/principal';
import { idOf } from '../http/params';
import { requireUuid } from '../services/ids';
import { parseWith } from '../http/validate';
import { hasRole, requireRole } from '../rbac';
import type { AuditTrail } from '../security/audit-trail';

export const createApiKeyBody = z.object({
  name: z.string().trim().min(1).max(100),
  role: z.enum(['admin', 'editor', 'viewer']),
});

function view(k: ApiKeyRecord) {
  return { id: k.id, name: k.name, role: k.role, prefix: k.prefix, createdBy: k.createdBy, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt, revokedAt: k.revokedAt };
}

export function createApiKeysRouter(deps: { apiKeys: ApiKeyRepository; audit: AuditTrail }): Router {
  const { apiKeys, audit } = deps;
  const router = Router();
  router.use(requireRole('admin'));

  router.get('/', async (req, res) => {
    res.json({ apiKeys: (await apiKeys.list(principalOf(req).tenantId)).map(view) });
  });

  router.post('/', async (req, res) => {
    const p = principalOf(req);
    const body = parseWith(createApiKeyBody, req.body, 'body');
    if (!hasRole(p.role, body.role)) throw new Forbidden(`a key cannot have more than your own role (${p.role})`);
    const { key, record } = await apiKeys.create({ tenantId: p.tenantId, name: body.name, role: body.role, createdBy: p.kind === 'api_key' ? null : p.userId });
    await audit.record(p.tenantId, p, req, { action: 'api_key.create', targetType: 'api_key', targetId: record.id, details: { role: record.role, prefix: record.prefix } });
    res.status(201).json({ ...view(record), key });
  });

  router.delete('/:id', async (req, res) => {
    const p = principalOf(req);
    const id = requireUuid(idOf(req), 'API key');
    const revoked = await apiKeys.revoke(p.tenantId, id);
    if (!revoked) throw new NotFound(`API key ${id} not found`);
    await audit.record(p.tenantId, p, req, { action: 'api_key.revoke', targetType: 'api_key', targetId: revoked.id, details: { prefix: revoked.prefix } });
    res.status(204).end();
  });

  return router;
}
