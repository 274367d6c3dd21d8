// /api/v1/api-keys: keys for programs. The key is in the creation response only; afterwards a key is
// known by its prefix. A key's role is at most its creator's and never owner.
import { z } from 'zod';
import { Forbidden, NotFound } from '../../core/errors';
import type { ApiKeyRecord, ApiKeyRepository } from '../../db';
import { principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import { hasRole } from '../rbac';
import type { AuditTrail } from '../security/audit-trail';

export const createApiKeyBody = z.object({
  name: z.string().trim().min(1).max(100),
  role: z.enum(['admin', 'editor', 'viewer']),
});

function view(k: ApiKeyRecord) {
  return { id: k.id, name: k.name, role: k.role, prefix: k.prefix, createdBy: k.createdBy, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt, revokedAt: k.revokedAt };
}

const route = routeFor<{ apiKeys: ApiKeyRepository; audit: AuditTrail }>();

export const apiKeyRoutes = [
  route({
    method: 'get',
    path: '/api-keys',
    summary: 'List API keys (prefix, role, last use; never the key)',
    tag: 'api-keys',
    role: 'admin',
    status: 200,
    response: "The tenant's API keys",
    handle: async ({ apiKeys }, { req }) => ({ apiKeys: (await apiKeys.list(principalOf(req).tenantId)).map(view) }),
  }),
  route({
    method: 'post',
    path: '/api-keys',
    summary: 'Create an API key; the key is in this response only',
    tag: 'api-keys',
    role: 'admin',
    body: createApiKeyBody,
    status: 201,
    response: 'The API key, with the key itself',
    handle: async ({ apiKeys, audit }, { req, body }) => {
      const p = principalOf(req);
      if (!hasRole(p.role, body.role)) throw new Forbidden(`a key cannot have more than your own role (${p.role})`);
      const { key, record } = await apiKeys.create({ tenantId: p.tenantId, name: body.name, role: body.role, createdBy: p.userId });
      await audit.record(p.tenantId, p, req, { action: 'api_key.create', targetType: 'api_key', targetId: record.id, details: { role: record.role, prefix: record.prefix } });
      return { ...view(record), key };
    },
  }),
  route({
    method: 'delete',
    path: '/api-keys/:id',
    summary: 'Revoke an API key',
    tag: 'api-keys',
    role: 'admin',
    idNames: 'API key',
    status: 204,
    response: 'Revoked',
    takesId: true,
    handle: async ({ apiKeys, audit }, { req, id }) => {
      const p = principalOf(req);
      const revoked = await apiKeys.revoke(p.tenantId, id);
      if (!revoked) throw new NotFound(`API key ${id} not found`);
      await audit.record(p.tenantId, p, req, { action: 'api_key.revoke', targetType: 'api_key', targetId: revoked.id, details: { prefix: revoked.prefix } });
    },
  }),
];
