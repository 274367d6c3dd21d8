// /api/v1/credentials: the tenant's LLM provider keys. The secret goes in once and never comes out of the
// API: responses carry id, provider, name and the server the key is for; agent nodes name a credential by id.
// A credential is rotated in place (PATCH with a new secret), so the nodes that name it keep working.
import { z } from 'zod';
import { NotFound, ValidationFailed } from '../../core/errors';
import { PROVIDERS } from '../../core/graph';
import type { CredentialRecord, CredentialRepository, CredentialUse, TenantScope } from '../../db';
import { principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
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

const route = routeFor<{ scope: TenantScope; credentials: CredentialRepository; audit: AuditTrail }>();

export const credentialRoutes = [
  // Editors list them to pick one for an agent node; only names, providers, servers and where each is used.
  route({
    method: 'get',
    path: '/credentials',
    summary: 'List provider credentials (never the secret)',
    tag: 'credentials',
    role: 'editor',
    status: 200,
    response: "The tenant's credentials and the nodes that use each",
    handle: async ({ scope, credentials }, { req }) => {
      const [list, uses] = await scope.run(principalOf(req).tenantId, async () => [await credentials.list(), await credentials.uses()] as const);
      return { credentials: list.map((c) => view(c, uses)) };
    },
  }),
  route({
    method: 'post',
    path: '/credentials',
    summary: 'Store a provider credential, encrypted',
    tag: 'credentials',
    role: 'admin',
    body: createCredentialBody,
    status: 201,
    response: 'The credential, without its secret',
    handle: async ({ scope, credentials, audit }, { req, body }) => {
      const p = principalOf(req);
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
      return view(created, []);
    },
  }),
  route({
    method: 'patch',
    path: '/credentials/:id',
    summary: 'Rename, re-point (base URL) or rotate (new secret) a credential in place',
    tag: 'credentials',
    role: 'admin',
    idNames: 'credential',
    body: changeCredentialBody,
    bodyOptional: true,
    status: 200,
    response: 'The credential as changed, without its secret',
    takesId: true,
    handle: ({ scope, credentials, audit }, { req, body, id }) => {
      const p = principalOf(req);
      return scope.run(p.tenantId, async () => {
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
    },
  }),
  route({
    method: 'delete',
    path: '/credentials/:id',
    summary: 'Delete a provider credential',
    tag: 'credentials',
    role: 'admin',
    idNames: 'credential',
    status: 204,
    response: 'Deleted',
    takesId: true,
    handle: async ({ scope, credentials, audit }, { req, id }) => {
      const p = principalOf(req);
      await scope.run(p.tenantId, async () => {
        if (!(await credentials.remove(id))) throw new NotFound(`credential ${id} not found`);
        await audit.record(p.tenantId, p, req, { action: 'credential.delete', targetType: 'credential', targetId: id });
      });
    },
  }),
];
