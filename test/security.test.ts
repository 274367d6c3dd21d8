// Tenant isolation in the database, members and roles, API keys, the audit log, abuse limits and the
// HTTP hardening (body limit, helmet, CORS), and deleting a tenant — against the real stack.
import { randomBytes } from 'node:crypto';
import { temporalWorkflowId } from '../core/events';
import { migrateAll, tenantRoleName, tenantSchemaName, TenantScope } from '../db';
import { publicMigrations } from '../migrations/public';
import { tenantMigrations } from '../migrations/tenant';
import { fanOutGraph, OUTLASTING_TURN_MS } from './fixtures/graphs';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';
import { openSocket } from './support/ws-client';
import { RunClient } from '../server/temporal/run-client';

jest.setTimeout(120_000);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.close();
});

async function slugOf(session: TestSession): Promise<string> {
  return (await stack.request('GET', '/api/v1/auth/me', { token: session.token })).body.tenant.slug;
}

async function addMember(owner: TestSession, role: string, by: TestSession = owner): Promise<TestSession & { password: string }> {
  const email = `${role}-${randomBytes(4).toString('hex')}@example.com`;
  const password = 'member password 1';
  const added = await stack.request('POST', '/api/v1/users', { token: by.token, body: { email, password, role, name: `A ${role}` } });
  if (added.status !== 201) throw new Error(`add ${role}: ${added.status} ${JSON.stringify(added.body)}`);
  const login = await stack.request('POST', '/api/v1/auth/login', { body: { email, password, tenant: await slugOf(owner) } });
  return { token: login.body.accessToken, tenantId: owner.tenantId, userId: added.body.id, email, password };
}

describe('PostgreSQL: one role per tenant', () => {
  it("refuses, inside a tenant scope, a query naming another tenant's schema with a real permission error", async () => {
    const a = await registerTenant(stack);
    const b = await registerTenant(stack);
    await createWorkflow(stack, b, fanOutGraph(), 'B secret plans');
    const scope = new TenantScope(stack.db.dataSource);
    await expect(scope.run(a.tenantId, (m) => m.query(`select * from ${tenantSchemaName(b.tenantId)}.workflows`))).rejects.toMatchObject({
      driverError: expect.objectContaining({ code: '42501', message: `permission denied for schema ${tenantSchemaName(b.tenantId)}` }),
    });
    // Its own schema works, unqualified and qualified, and the scope really runs as the tenant's role.
    const [who] = await scope.run(a.tenantId, (m) => m.query(`select current_user as role, (select count(*) from ${tenantSchemaName(a.tenantId)}.workflows)::int as n`));
    expect(who).toEqual({ role: tenantRoleName(a.tenantId), n: 0 });
  });

  it('leaves the login role owning no tenant table, sequence or schema', async () => {
    await registerTenant(stack);
    const owned = await stack.db.dataSource.query(
      `select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname like 'tenant\\_%' and pg_get_userbyid(c.relowner) = current_user`,
    );
    expect(owned).toEqual([]);
    const schemas = await stack.db.dataSource.query(`select nspname from pg_namespace where nspname like 'tenant\\_%' and pg_get_userbyid(nspowner) = current_user`);
    expect(schemas).toEqual([]);
  });

  it('hands the tables of a tenant created before per-tenant roles to its role when migrating', async () => {
    const t = await registerTenant(stack);
    const schema = tenantSchemaName(t.tenantId);
    // The state of a tenant from before this change: everything owned by the login role.
    await stack.db.dataSource.query(`alter schema ${schema} owner to current_user`);
    for (const { tablename } of await stack.db.dataSource.query(`select tablename from pg_tables where schemaname = $1`, [schema])) {
      await stack.db.dataSource.query(`alter table ${schema}."${tablename}" owner to current_user`);
    }
    await migrateAll(stack.db.dataSource, { public: publicMigrations, tenant: tenantMigrations });
    const owners = await stack.db.dataSource.query(`select distinct tableowner from pg_tables where schemaname = $1`, [schema]);
    expect(owners).toEqual([{ tableowner: tenantRoleName(t.tenantId) }]);
    // And the API keeps working for that tenant.
    expect((await stack.request('GET', '/api/v1/workflows', { token: t.token })).status).toBe(200);
  });
});

describe('members and roles', () => {
  it('lets an admin add, re-role and remove editors and viewers, but not touch or create owners', async () => {
    const owner = await registerTenant(stack);
    const admin = await addMember(owner, 'admin');
    const editor = await addMember(owner, 'editor', admin);
    expect((await stack.request('PATCH', `/api/v1/users/${editor.userId}`, { token: admin.token, body: { role: 'viewer' } })).body.role).toBe('viewer');
    const forbidden = [
      await stack.request('PATCH', `/api/v1/users/${owner.userId}`, { token: admin.token, body: { role: 'viewer' } }),
      await stack.request('DELETE', `/api/v1/users/${owner.userId}`, { token: admin.token }),
      await stack.request('PATCH', `/api/v1/users/${editor.userId}`, { token: admin.token, body: { role: 'owner' } }),
      await stack.request('POST', '/api/v1/users', { token: admin.token, body: { email: 'new-owner@example.com', password: 'long password 1', role: 'owner' } }),
    ];
    expect(forbidden.map((r) => r.status)).toEqual([403, 403, 403, 403]);
    const users = (await stack.request('GET', '/api/v1/users', { token: owner.token })).body.users;
    expect(users.find((u: { id: string }) => u.id === owner.userId).role).toBe('owner');
    expect(users.map((u: { email: string }) => u.email)).not.toContain('new-owner@example.com');
    expect((await stack.request('DELETE', `/api/v1/users/${editor.userId}`, { token: admin.token })).status).toBe(204);
  });

  it('never leaves a tenant without an owner', async () => {
    const owner = await registerTenant(stack);
    const demote = await stack.request('PATCH', `/api/v1/users/${owner.userId}`, { token: owner.token, body: { role: 'admin' } });
    expect(demote.status).toBe(409);
    expect(demote.body.error.code).toBe('LAST_OWNER');
    expect((await stack.request('DELETE', `/api/v1/users/${owner.userId}`, { token: owner.token })).body.error.code).toBe('LAST_OWNER');
    // With a second owner, the first may step down.
    const second = await addMember(owner, 'owner');
    expect((await stack.request('PATCH', `/api/v1/users/${owner.userId}`, { token: owner.token, body: { role: 'admin' } })).status).toBe(200);
    expect((await stack.request('DELETE', `/api/v1/users/${second.userId}`, { token: owner.token })).status).toBe(403);
  });

  it('applies a role change and a removal on the very next request, and ends the removed member\'s sessions', async () => {
    const owner = await registerTenant(stack);
    const editor = await addMember(owner, 'editor');
    expect((await stack.request('POST', '/api/v1/workflows', { token: editor.token, body: { name: 'x', graph: fanOutGraph() } })).status).toBe(201);
    await stack.request('PATCH', `/api/v1/users/${editor.userId}`, { token: owner.token, body: { role: 'viewer' } });
    expect((await stack.request('POST', '/api/v1/workflows', { token: editor.token, body: { name: 'x', graph: fanOutGraph() } })).status).toBe(403);
    const login = await stack.request('POST', '/api/v1/auth/login', { body: { email: editor.email, password: editor.password, tenant: await slugOf(owner) } });
    await stack.request('DELETE', `/api/v1/users/${editor.userId}`, { token: owner.token });
    expect((await stack.request('GET', '/api/v1/workflows', { token: editor.token })).status).toBe(401);
    expect((await stack.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } })).status).toBe(401);
  });

  it('lets a viewer subscribe to a run of its tenant over WebSocket, and nobody to a run of another tenant', async () => {
    const owner = await registerTenant(stack);
    const viewer = await addMember(owner, 'viewer');
    const stranger = await registerTenant(stack);
    const executionId = await startRun(stack, owner, await createWorkflow(stack, owner, fanOutGraph(10)), { topic: 'ws' });
    await waitForExecution(stack, owner, executionId);
    const socket = await openSocket(stack.wsUrl, viewer.token);
    const other = await openSocket(stack.wsUrl, stranger.token);
    try {
      socket.send({ type: 'subscribe', executionId });
      expect(await socket.waitFor((m) => m.type === 'subscribed')).toMatchObject({ executionId });
      await socket.waitFor((m) => m.type === 'event' && m.event.type === 'execution.succeeded');
      other.send({ type: 'subscribe', executionId });
      expect(await other.waitFor((m) => m.type === 'error')).toMatchObject({ executionId });
      expect(other.messages.filter((m) => m.type === 'event')).toEqual([]);
    } finally {
      await socket.close();
      await other.close();
    }
  });
});

describe('API keys', () => {
  it('is shown once, stored hashed, identified by prefix, records its use and the runs it starts, and stops at revocation', async () => {
    const owner = await registerTenant(stack);
    const created = await stack.request('POST', '/api/v1/api-keys', { token: owner.token, body: { name: 'CI', role: 'editor' } });
    expect(created.status).toBe(201);
    const { key, id, prefix } = created.body;
    expect(key.startsWith(`${prefix}_`)).toBe(true);
    const [row] = await stack.db.dataSource.query(`select key_hash, last_used_at from public.api_keys where id = $1`, [id]);
    expect(row.key_hash).not.toContain(key);
    expect(row.last_used_at).toBeNull();

    const listed = await stack.request('GET', '/api/v1/api-keys', { token: owner.token });
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(listed.body.apiKeys).toEqual([expect.objectContaining({ id, prefix, name: 'CI', role: 'editor', revokedAt: null })]);

    const headers = { 'x-api-key': key };
    const workflow = await stack.request('POST', '/api/v1/workflows', { headers, body: { name: 'by key', graph: fanOutGraph(10) } });
    expect(workflow.status).toBe(201);
    const run = await stack.request('POST', `/api/v1/workflows/${workflow.body.id}/executions`, { headers, body: { inputs: { topic: 'keys' } } });
    expect(run.status).toBe(202);
    const [execution] = await stack.db.dataSource.query(`select started_by from ${tenantSchemaName(owner.tenantId)}.executions where id = $1`, [run.body.id]);
    expect(execution.started_by).toBe(`api_key:${id}`);
    expect((await stack.request('GET', '/api/v1/users', { headers })).status).toBe(403);
    const [used] = await stack.db.dataSource.query(`select last_used_at from public.api_keys where id = $1`, [id]);
    expect(used.last_used_at).toBeInstanceOf(Date);

    expect((await stack.request('DELETE', `/api/v1/api-keys/${id}`, { token: owner.token })).status).toBe(204);
    expect((await stack.request('GET', '/api/v1/workflows', { headers })).status).toBe(401);
    expect((await stack.request('GET', '/api/v1/api-keys', { token: owner.token })).body.apiKeys[0].revokedAt).toEqual(expect.any(String));
  });

  it('is never an owner key, and an admin key can mint weaker keys', async () => {
    const owner = await registerTenant(stack);
    const admin = await addMember(owner, 'admin');
    expect((await stack.request('POST', '/api/v1/api-keys', { token: admin.token, body: { name: 'k', role: 'admin' } })).status).toBe(201);
    expect((await stack.request('POST', '/api/v1/api-keys', { token: admin.token, body: { name: 'k', role: 'owner' } })).status).toBe(400);
    const adminKey = (await stack.request('POST', '/api/v1/api-keys', { token: owner.token, body: { name: 'k', role: 'admin' } })).body.key;
    const minted = await stack.request('POST', '/api/v1/api-keys', { headers: { 'x-api-key': adminKey }, body: { name: 'k2', role: 'viewer' } });
    expect(minted.status).toBe(201);
    // A key minted with a key traces to the human behind the first one (issue 14: it used to have no creator).
    expect(minted.body.createdBy).toBe(owner.userId);
  });
});

describe('audit log', () => {
  it('records auth events, member and role changes, key and credential changes, with actor and IP', async () => {
    const owner = await registerTenant(stack);
    const member = await addMember(owner, 'editor');
    await stack.request('PATCH', `/api/v1/users/${member.userId}`, { token: owner.token, body: { role: 'viewer' } });
    const key = await stack.request('POST', '/api/v1/api-keys', { token: owner.token, body: { name: 'k', role: 'viewer' } });
    await stack.request('DELETE', `/api/v1/api-keys/${key.body.id}`, { token: owner.token });
    const cred = await stack.request('POST', '/api/v1/credentials', { token: owner.token, body: { provider: 'openai', name: 'c', secret: 'sk-audit' } });
    await stack.request('DELETE', `/api/v1/credentials/${cred.body.id}`, { token: owner.token });
    await stack.request('DELETE', `/api/v1/users/${member.userId}`, { token: owner.token });

    const log = await stack.request('GET', '/api/v1/tenant/audit-log', { token: owner.token });
    expect(log.status).toBe(200);
    const entries = [...log.body.entries].reverse();
    expect(entries.map((e: { action: string }) => e.action)).toEqual([
      'auth.register',
      'user.add',
      'auth.login',
      'user.role_change',
      'api_key.create',
      'api_key.revoke',
      'credential.create',
      'credential.delete',
      'user.remove',
    ]);
    expect(entries[3]).toMatchObject({ actorType: 'user', actorId: owner.userId, targetId: member.userId, details: { from: 'editor', to: 'viewer' }, ip: expect.stringMatching(/127\.0\.0\.1/) });
    expect(JSON.stringify(log.body)).not.toContain('sk-audit');
    expect((await stack.request('GET', '/api/v1/tenant/audit-log', { token: member.token })).status).toBe(401);
  });
});

describe('audit log of other modules\' routes', () => {
  it('records a workflow delete, by whom and from where', async () => {
    const owner = await registerTenant(stack);
    const workflowId = await createWorkflow(stack, owner, fanOutGraph());
    expect((await stack.request('DELETE', `/api/v1/workflows/${workflowId}`, { token: owner.token })).status).toBe(204);
    expect((await stack.request('DELETE', `/api/v1/workflows/${workflowId}`, { token: owner.token })).status).toBe(404);
    // Written once the response is sent: wait for it.
    const deletes: any[] = await waitUntil('the delete in the audit log', async () => {
      const log = await stack.request('GET', '/api/v1/tenant/audit-log', { token: owner.token });
      const found = log.body.entries.filter((e: { action: string }) => e.action === 'workflow.delete');
      return found.length > 0 && found;
    });
    expect(deletes).toEqual([expect.objectContaining({ actorType: 'user', actorId: owner.userId, targetType: 'workflow', targetId: workflowId })]);
  });
});

describe('Temporal scoping', () => {
  it("cannot reach another tenant's run with its execution id: every call derives the workflow id from the caller's tenant", async () => {
    const a = await registerTenant(stack);
    const b = await registerTenant(stack);
    const executionId = await startRun(stack, b, await createWorkflow(stack, b, fanOutGraph(OUTLASTING_TURN_MS)), { topic: 'b' });
    await waitForExecution(stack, b, executionId, (e) => e.status === 'running');
    const runs = new RunClient(stack.temporal, stack.taskQueue);
    expect(await runs.describe(a.tenantId, executionId)).toBeNull();
    await expect(runs.cancel(a.tenantId, executionId)).rejects.toThrow(/not found/i);
    await expect(runs.queryState(a.tenantId, executionId)).rejects.toThrow(/not found/i);
    expect((await stack.request('POST', `/api/v1/executions/${executionId}/cancel`, { token: a.token })).status).toBe(404);
    const described = await stack.temporal.workflow.getHandle(temporalWorkflowId(b.tenantId, executionId)).describe();
    expect(described.status.name).toBe('RUNNING');
    expect(described.searchAttributes.TenantId).toEqual([b.tenantId]);
    await stack.request('POST', `/api/v1/executions/${executionId}/cancel`, { token: b.token });
  });
});

describe('deleting a tenant', () => {
  it('terminates its open runs, drops its schema and role, and ends every session; other tenants carry on', async () => {
    const owner = await registerTenant(stack);
    const bystander = await registerTenant(stack);
    const executionId = await startRun(stack, owner, await createWorkflow(stack, owner, fanOutGraph(OUTLASTING_TURN_MS)), { topic: 'bye' });
    await waitForExecution(stack, owner, executionId, (e) => e.status === 'running');
    const wrongSlug = await stack.request('DELETE', '/api/v1/tenant', { token: owner.token, body: { confirmSlug: 'not-it' } });
    expect(wrongSlug.status).toBe(400);
    const res = await stack.request('DELETE', '/api/v1/tenant', { token: owner.token, body: { confirmSlug: await slugOf(owner) } });
    expect(res.status).toBe(204);

    const described = await stack.temporal.workflow.getHandle(temporalWorkflowId(owner.tenantId, executionId)).describe();
    expect(described.status.name).toBe('TERMINATED');
    const schema = tenantSchemaName(owner.tenantId);
    expect(await stack.db.dataSource.query(`select 1 from pg_namespace where nspname = $1`, [schema])).toEqual([]);
    expect(await stack.db.dataSource.query(`select 1 from pg_roles where rolname = $1`, [schema])).toEqual([]);
    expect(await stack.db.dataSource.query(`select 1 from public.users where tenant_id = $1`, [owner.tenantId])).toEqual([]);
    expect((await stack.request('GET', '/api/v1/workflows', { token: owner.token })).status).toBe(401);
    expect((await stack.request('GET', '/api/v1/workflows', { token: bystander.token })).status).toBe(200);
  });
});

describe('HTTP hardening', () => {
  it('refuses an oversized body with 413 and sends helmet headers', async () => {
    const owner = await registerTenant(stack);
    const big = { name: 'big', description: 'x'.repeat(3 * 1024 * 1024), graph: fanOutGraph() };
    const res = await stack.request('POST', '/api/v1/workflows', { token: owner.token, body: big });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('allows CORS only for the configured origins', async () => {
    const cors = await startTestStack({ worker: false, corsOrigins: ['https://app.example.com'] });
    try {
      const allowed = await cors.request('OPTIONS', '/api/v1/workflows', { headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const refused = await cors.request('OPTIONS', '/api/v1/workflows', { headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } });
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await cors.close();
    }
  });
});

describe('abuse limits', () => {
  let limited: TestStack;
  beforeAll(async () => {
    limited = await startTestStack({
      worker: false,
      rateLimits: { authPerIp: { limit: 8, windowSeconds: 60 }, authPerEmail: { limit: 3, windowSeconds: 60 } },
    });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('limits sign-ups per email and auth requests per IP with 429 and Retry-After', async () => {
    // Wrong passwords at login are slowed per email and client instead (test/login-abuse.test.ts); the email limit
    // counts sign-ups, which create rows. A weak password is refused after the guards have counted the attempt.
    const register = (email: string) => limited.request('POST', '/api/v1/auth/register', { body: { tenantName: 'Target', email, password: 'password' } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await register('target@example.com')).status);
    expect(statuses).toEqual([400, 400, 400, 429]);
    const limitedRes = await register('target@example.com');
    expect(Number(limitedRes.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limitedRes.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // Logins of other emails from the same IP until the IP's allowance (8) is spent: 5 attempts so far, 3 are left.
    const login = (email: string) => limited.request('POST', '/api/v1/auth/login', { body: { email, password: 'wrong password' } });
    const others = [];
    for (let i = 0; i < 4; i++) others.push((await login(`other-${i}@example.com`)).status);
    expect(others).toEqual([401, 401, 401, 429]);
  });

  it('limits API requests and run starts per tenant', async () => {
    const fresh = await startTestStack({ worker: false, rateLimits: { apiPerTenant: { limit: 6, windowSeconds: 60 }, runStartsPerTenant: { limit: 1, windowSeconds: 60 } } });
    try {
      const owner = await registerTenant(fresh);
      const workflowId = await createWorkflow(fresh, owner, fanOutGraph()); // request 1
      const first = await fresh.request('POST', `/api/v1/workflows/${workflowId}/executions`, { token: owner.token, body: { inputs: { topic: 'a' } } }); // 2
      const second = await fresh.request('POST', `/api/v1/workflows/${workflowId}/executions`, { token: owner.token, body: { inputs: { topic: 'b' } } }); // 3
      expect([first.status, second.status]).toEqual([202, 429]);
      expect(second.headers.get('retry-after')).toMatch(/^\d+$/);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await fresh.request('GET', '/api/v1/workflows', { token: owner.token })).status); // 4..7
      expect(statuses).toEqual([200, 200, 200, 429]);
      // Another tenant has its own allowance.
      const other = await registerTenant(fresh);
      expect((await fresh.request('GET', '/api/v1/workflows', { token: other.token })).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});
