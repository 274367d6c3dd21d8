// The API behind the Settings pages (issue 13): a credential names its own server (an OpenAI-compatible
// gateway) and is rotated in place, so the agent node that names it keeps working with the new key; the
// credentials list says where each one is used; the audit log is filtered and paged. Another tenant's
// credential answers 404 and its log shows nothing of this one's.
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { singleAgentGraph } from './fixtures/graphs';
import { addMember, createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

jest.setTimeout(120_000);

let stack: TestStack;
let fake: FakeLlmServer;

beforeAll(async () => {
  fake = await startFakeLlmServer();
  // No configured server or key for openai: the credential's base URL and secret are the only way to the fake.
  stack = await startTestStack({ providers: { openai: {}, anthropic: {} } });
});

afterAll(async () => {
  await stack?.close();
  await fake?.close();
});

function createCredential(session: TestSession, body: Record<string, unknown>) {
  return stack.request('POST', '/api/v1/credentials', { token: session.token, body });
}

describe('credentials with a base URL, rotated in place', () => {
  it('sends the key to the credential’s server, and the rotated key on the next run', async () => {
    const owner = await registerTenant(stack);
    const created = await createCredential(owner, { provider: 'openai', name: 'Local gateway', secret: 'sk-first', baseUrl: `${fake.openaiBaseURL}/` });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ provider: 'openai', name: 'Local gateway', baseUrl: fake.openaiBaseURL, rotatedAt: null, usedBy: [] });
    expect(JSON.stringify(created.body)).not.toContain('sk-first');

    const workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'openai', model: 'gateway-model', credentialId: created.body.id }), 'Uses the gateway');
    const first = await waitForExecution(stack, owner, await startRun(stack, owner, workflowId));
    expect(first.status).toBe('succeeded');
    expect(fake.callsFor('gateway-model').map((c) => c.apiKey)).toEqual(['sk-first']);

    const list = await stack.request('GET', '/api/v1/credentials', { token: owner.token });
    expect(list.body.credentials).toEqual([expect.objectContaining({ id: created.body.id, usedBy: [{ workflowId, workflowName: 'Uses the gateway', nodeId: 'ask' }] })]);

    const rotated = await stack.request('PATCH', `/api/v1/credentials/${created.body.id}`, { token: owner.token, body: { secret: 'sk-second' } });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id: created.body.id, name: 'Local gateway', baseUrl: fake.openaiBaseURL, rotatedAt: expect.any(String) });
    expect(JSON.stringify(rotated.body)).not.toContain('sk-second');

    const second = await waitForExecution(stack, owner, await startRun(stack, owner, workflowId));
    expect(second.status).toBe('succeeded');
    expect(fake.callsFor('gateway-model').map((c) => c.apiKey)).toEqual(['sk-first', 'sk-second']);

    const log = await stack.request('GET', '/api/v1/tenant/audit-log?action=credential', { token: owner.token });
    expect(log.body.entries.map((e: { action: string }) => e.action)).toEqual(['credential.rotate', 'credential.create']);
    expect(JSON.stringify(log.body)).not.toContain('sk-second');
  });

  it('renames and re-points a credential; null goes back to the configured server', async () => {
    const owner = await registerTenant(stack);
    const created = await createCredential(owner, { provider: 'anthropic', name: 'Proxy', secret: 'sk-a', baseUrl: 'https://proxy.example.test' });
    const renamed = await stack.request('PATCH', `/api/v1/credentials/${created.body.id}`, { token: owner.token, body: { name: 'Claude', baseUrl: null } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Claude', baseUrl: null, rotatedAt: null });
  });

  it('refuses a base URL that is no http(s) URL, one on echo, and an empty change, with the reason', async () => {
    const owner = await registerTenant(stack);
    const ftp = await createCredential(owner, { provider: 'openai', name: 'x', secret: 's', baseUrl: 'ftp://127.0.0.1/v1' });
    expect(ftp.status).toBe(400);
    expect(ftp.body.error.details.issues).toEqual([expect.objectContaining({ path: 'body.baseUrl', message: 'the base URL must be an http:// or https:// URL' })]);
    const echo = await createCredential(owner, { provider: 'echo', name: 'x', secret: 's', baseUrl: 'http://127.0.0.1:1/v1' });
    expect(echo.status).toBe(400);
    expect(echo.body.error.details.issues).toEqual([expect.objectContaining({ path: 'body.baseUrl', message: 'only openai and anthropic credentials take a base URL' })]);

    const created = await createCredential(owner, { provider: 'echo', name: 'Echo', secret: 's' });
    const empty = await stack.request('PATCH', `/api/v1/credentials/${created.body.id}`, { token: owner.token, body: {} });
    expect(empty.status).toBe(400);
    const onEcho = await stack.request('PATCH', `/api/v1/credentials/${created.body.id}`, { token: owner.token, body: { baseUrl: 'http://127.0.0.1:1/v1' } });
    expect(onEcho.status).toBe(400);
    expect(onEcho.body.error.message).toBe('a echo credential takes no base URL');
  });

  it('lets only admins change a credential, and another tenant gets 404', async () => {
    const owner = await registerTenant(stack);
    const other = await registerTenant(stack);
    const editor = await addMember(stack, owner, 'editor');
    const created = await createCredential(owner, { provider: 'openai', name: 'Mine', secret: 'sk-mine' });
    const asEditor = await stack.request('PATCH', `/api/v1/credentials/${created.body.id}`, { token: editor.token, body: { name: 'Hijacked' } });
    expect(asEditor.status).toBe(403);
    const asOther = await stack.request('PATCH', `/api/v1/credentials/${created.body.id}`, { token: other.token, body: { secret: 'sk-theirs' } });
    expect(asOther.status).toBe(404);
    const list = await stack.request('GET', '/api/v1/credentials', { token: owner.token });
    expect(list.body.credentials).toEqual([expect.objectContaining({ name: 'Mine', rotatedAt: null })]);
  });
});

describe('the audit log, filtered and paged', () => {
  it('filters by action family, actor and target, pages with nextBefore, and shows another tenant nothing', async () => {
    const owner = await registerTenant(stack);
    const admin = await addMember(stack, owner, 'admin');
    const other = await registerTenant(stack);
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) ids.push((await createCredential(admin, { provider: 'echo', name, secret: 's' })).body.id);
    await stack.request('POST', '/api/v1/api-keys', { token: owner.token, body: { name: 'ci', role: 'viewer' } });

    const byAdmin = await stack.request('GET', `/api/v1/tenant/audit-log?action=credential&actorId=${admin.userId}`, { token: owner.token });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.entries.map((e: { targetId: string }) => e.targetId)).toEqual([...ids].reverse());

    const keys = await stack.request('GET', '/api/v1/tenant/audit-log?action=api_key.create', { token: owner.token });
    expect(keys.body.entries).toEqual([expect.objectContaining({ action: 'api_key.create', actorId: owner.userId })]);

    const target = await stack.request('GET', `/api/v1/tenant/audit-log?targetType=credential&targetId=${ids[1]}`, { token: owner.token });
    expect(target.body.entries.map((e: { action: string; targetId: string }) => [e.action, e.targetId])).toEqual([['credential.create', ids[1]]]);

    const page1 = await stack.request('GET', '/api/v1/tenant/audit-log?action=credential&limit=2', { token: owner.token });
    expect(page1.body.entries.map((e: { targetId: string }) => e.targetId)).toEqual([ids[2], ids[1]]);
    expect(page1.body.nextBefore).toBe(page1.body.entries[1].id);
    const page2 = await stack.request('GET', `/api/v1/tenant/audit-log?action=credential&limit=2&before=${page1.body.nextBefore}`, { token: owner.token });
    expect(page2.body.entries.map((e: { targetId: string }) => e.targetId)).toEqual([ids[0]]);
    expect(page2.body.nextBefore).toBeNull();

    const future = await stack.request('GET', `/api/v1/tenant/audit-log?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`, { token: owner.token });
    expect(future.body.entries).toEqual([]);
    const past = await stack.request('GET', `/api/v1/tenant/audit-log?action=credential&until=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`, { token: owner.token });
    expect(past.body.entries).toHaveLength(3);

    const theirs = await stack.request('GET', `/api/v1/tenant/audit-log?actorId=${admin.userId}`, { token: other.token });
    expect(theirs.status).toBe(200);
    expect(theirs.body.entries).toEqual([]);
    const theirTarget = await stack.request('GET', `/api/v1/tenant/audit-log?targetId=${ids[0]}`, { token: other.token });
    expect(theirTarget.body.entries).toEqual([]);
  });

  it('answers a bad filter with 400 and the reason, and a non-admin with 403', async () => {
    const owner = await registerTenant(stack);
    const bad = await stack.request('GET', '/api/v1/tenant/audit-log?since=yesterday-ish', { token: owner.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues).toEqual([expect.objectContaining({ path: 'query.since', message: 'since is a date' })]);
    const badAction = await stack.request('GET', '/api/v1/tenant/audit-log?action=DROP%20TABLE', { token: owner.token });
    expect(badAction.status).toBe(400);
    const editor = await addMember(stack, owner, 'editor');
    expect((await stack.request('GET', '/api/v1/tenant/audit-log', { token: editor.token })).status).toBe(403);
  });

  it('tells a short password at sign-up by its reason', async () => {
    const res = await stack.request('POST', '/api/v1/auth/register', { body: { tenantName: 'Short', email: 'short@example.com', password: 'abc' } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues).toEqual([expect.objectContaining({ path: 'body.password', message: 'the password needs at least 8 characters' })]);
  });
});
