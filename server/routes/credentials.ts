// /api/v1/credentials: the tenant's LLM provider keys. The secret goes in once and never comes out of the
// API: responses carry id, provider, name and the server the key is for; agent nodes name a credential by id.
// A credential is rotated in place (PATCH with a new secret), so the nodes that name it keep working.
import { Router } from 'express';
import { z } from 'zod';
import { NotFound, ValidationFailed } from '../../core/errors';
import { PROVIDERS } from '../../core/graph';
import type { CredentialRecord, CredentialRepository, CredentialUse, TenantScope } from '../../db';
import { principalOf } from '../auth/principal';
import { idOf } from '../http/params';
import { requireUuid } from '../services/ids';
import { parseWith } from '../http/validate';
import { requireRole } from '../rbac';
import type { AuditTrail } from '../security/audit-trail';

/** The providers whose SDK takes another server: an OpenAI-compatible gateway, an Anthropic proxy. */
const SERVER_PROVIDERS: readonly string[] = ['openai', 'anthropic'];

// http(s) only: the worker sends the key there. Who may set it is an admin of the tenant (docs/security.md).
const baseUrl = z
  .url({ protocol: /^https?$/, error: 'the base URL must be an http:// or https:// URL' })
  .max(500)
  .transform((u) => u.replace(/\/+$/, ''));

export const createCredentialBody = z
  .object({
    provider: z.enum(PROVIDERS),
    name: z.string().trim().min(1, 'a credential needs a name').max(100),
    secret: z.string().min(1, 'the API key is empty').max(4000),
    baseUrl: baseUrl.optional(),
  })
  .refine((b) => b.baseUrl === undefined || SERVER_PROVIDERS.includes(b.provider), {
    path: ['baseUrl'],
    message: 'only openai and anthropic credentials take a base URL',
  });

export const changeCredentialBody = z
  .strictObject({
    name: z.string().trim().min(1, 'a credential needs a name').max(100).optional(),
    /** A new secret rotates the credential. */
    secret: z.string().min(1, 'the API key is empty').max(4000).optional(),
    /** null goes back to the provider's configured server. */
    baseUrl: baseUrl.nullable().optional(),
  })
  .refine((b) => b.name !== undefined || b.secret !== undefined || b.baseUrl !== undefined, 'nothing to change: send name, secret or baseUrl');

function view(c: CredentialRecord, uses: CredentialUse[]) {
  return { ...c, usedBy: uses.filter((u) => u.credentialId === c.id).map(({ workflowId, workflowName, nodeId }) => ({ workflowId, workflowName, nodeId })) };
}

export function createCredentialsRouter(deps: { scope: TenantScope; credentials: CredentialRepository; audit: AuditTrail }): Router {
  const { scope, credentials, audit } = deps;
  const router = Router();

  // Editors list them to pick one for an agent node; only names, providers, servers and where each is used.
  router.get('/', requireRole('editor'), async (req, res) => {
    const [list, uses] = await scope.run(principalOf(req).tenantId, async () => [await credentials.list(), await credentials.uses()] as const);
    res.json({ credentials: list.map((c) => view(c, uses)) });
  });

  router.post('/', requireRole('admin'), async (req, res) => {
    const p = principalOf(req);
    const body = parseWith(createCredentialBody, req.body, 'body');
    const created = await scope.run(p.tenantId, async () => {
      const c = await credentials.create({
        provider: body.provider,
        name: body.name,
        secret: body.secret,
        baseUrl: body.baseUrl ?? null,
        createdBy: p.kind === 'api_key' ? null : p.userId,
      });
      await audit.record(p.tenantId, p, req, {
        action: 'credential.create',
        targetType: 'credential',
        targetId: c.id,
        details: { provider: c.provider, name: c.name, ...(c.baseUrl ? { baseUrl: c.baseUrl } : {}) },
      });
      return c;
    });
    res.status(201).json(view(created, []));
  });

  router.patch('/:id', requireRole('admin'), async (req, res) => {
    const p = principalOf(req);
    const id = requireUuid(idOf(req), 'credential');
    const body = parseWith(changeCredentialBody, req.body ?? {}, 'body');
    const changed = await scope.run(p.tenantId, async () => {
      const existing = (await credentials.list()).find((c) => c.id === id);
      if (!existing) throw new NotFound(`credential ${id} not found`);
      if (body.baseUrl && !SERVER_PROVIDERS.includes(existing.provider)) {
        throw new ValidationFailed(`a ${existing.provider} credential takes no base URL`, { field: 'baseUrl' });
      }
      const c = await credentials.update(id, body);
      if (!c) throw new NotFound(`credential ${id} not found`);
      await audit.record(p.tenantId, p, req, {
        action: body.secret !== undefined ? 'credential.rotate' : 'credential.update',
        targetType: 'credential',
        targetId: id,
        details: {
          ...(body.name !== undefined ? { name: c.name } : {}),
          ...(body.baseUrl !== undefined ? { baseUrl: c.baseUrl } : {}),
        },
      });
      return view(c, await credentials.uses(id));
    });
    res.json(changed);
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
