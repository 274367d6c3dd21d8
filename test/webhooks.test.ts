// Signed webhooks on a real stack: a delivery signed with the hook's secret starts a run recorded as
// triggered by the webhook; a bad or missing signature is a 401 that starts nothing and is audited; a
// redelivery answers the same execution; ?wait answers with the outputs; other tenants cannot see the hook.
import { createHmac } from 'node:crypto';
import { singleAgentGraph } from './fixtures/graphs';
import { createWorkflow, registerTenant, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type ApiResponse, type TestStack } from './support/stack';

jest.setTimeout(120_000);

let stack: TestStack;
let owner: TestSession;
let stranger: TestSession;
let workflowId: string;
let hook: { id: string; url: string; secret: string };

const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

async function deliver(body: string, headers: Record<string, string>, query = ''): Promise<ApiResponse> {
  const res = await fetch(`${hook.url}${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

async function webhookRuns(session: TestSession): Promise<any[]> {
  const res = await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}&trigger=webhook`, { token: session.token });
  expect(res.status).toBe(200);
  return res.body.items;
}

beforeAll(async () => {
  // Room for this file's deliveries to the main hook; the rate-limit test uses a hook of its own.
  stack = await startTestStack({ rateLimits: { webhookPerHook: { limit: 20, windowSeconds: 600 } } });
  owner = await registerTenant(stack);
  stranger = await registerTenant(stack);
  workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'echo', model: 'echo-1' }));
  const created = await stack.request('POST', `/api/v1/workflows/${workflowId}/webhooks`, { token: owner.token });
  expect(created.status).toBe(201);
  hook = created.body;
});

afterAll(async () => {
  await stack?.close();
});

test('a hook is created with a URL and a secret shown once; the list never shows the secret', async () => {
  expect(hook.url).toBe(`${stack.baseUrl}/hooks/${hook.id}`);
  expect(hook.secret).toMatch(/^whsec_/);
  const list = await stack.request('GET', `/api/v1/workflows/${workflowId}/webhooks`, { token: owner.token });
  expect(list.status).toBe(200);
  expect(list.body.webhooks).toEqual([expect.objectContaining({ id: hook.id, url: hook.url, workflowId })]);
  expect(JSON.stringify(list.body)).not.toContain(hook.secret);
});

test('a delivery with a good signature starts a run recorded as triggered by the webhook', async () => {
  const body = JSON.stringify({ topic: 'otters' });
  const res = await deliver(body, { 'X-Tessera-Signature': sign(hook.secret, body) });
  expect(res.status).toBe(202);
  const run = await waitForExecution(stack, owner, res.body.executionId);
  expect(run).toMatchObject({ status: 'succeeded', trigger: { type: 'webhook', webhookId: hook.id }, inputs: { topic: 'otters' }, outputs: { out: 'Tell me about otters' } });
});

test('a bad or missing signature is a 401, starts nothing and is audited', async () => {
  const before = (await webhookRuns(owner)).length;
  const body = JSON.stringify({ topic: 'forged' });
  const wrongSecret = await deliver(body, { 'X-Tessera-Signature': sign('not-the-secret', body) });
  const otherBody = await deliver(body, { 'X-Tessera-Signature': sign(hook.secret, JSON.stringify({ topic: 'other' })) });
  const garbage = await deliver(body, { 'X-Tessera-Signature': 'sha256=zz' });
  const missing = await deliver(body, {});
  for (const res of [wrongSecret, otherBody, garbage, missing]) {
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  }
  expect((await webhookRuns(owner)).length).toBe(before);
  const audit = await stack.request('GET', `/api/v1/tenant/audit-log?action=webhook.signature_rejected&targetId=${hook.id}`, { token: owner.token });
  expect(audit.status).toBe(200);
  expect(audit.body.entries).toHaveLength(4);
});

test('the same delivery id twice gives one execution', async () => {
  const body = JSON.stringify({ topic: 'redelivered' });
  const headers = { 'X-Tessera-Signature': sign(hook.secret, body), 'X-Tessera-Delivery': 'delivery-42' };
  const first = await deliver(body, headers);
  const second = await deliver(body, headers);
  expect(first.status).toBe(202);
  expect(second.status).toBe(202);
  expect(second.body.executionId).toBe(first.body.executionId);
  expect(second.headers.get('idempotent-replayed')).toBe('true');
  const runs = (await webhookRuns(owner)).filter((e) => e.id === first.body.executionId);
  expect(runs).toHaveLength(1);
});

test('?wait=10 answers 200 with the outputs once the run ended', async () => {
  const body = JSON.stringify({ topic: 'waiting' });
  const started = Date.now();
  const res = await deliver(body, { 'X-Tessera-Signature': sign(hook.secret, body) }, '?wait=10');
  const latencyMs = Date.now() - started;
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ executionId: expect.any(String), status: 'succeeded', outputs: { out: 'Tell me about waiting' } });
  // The figure the closing note asks for.
  console.log(`webhook ?wait latency: ${latencyMs} ms`);
});

test('wait out of 1..30, a body that is not a JSON object, and an unknown hook are 4xx', async () => {
  const body = JSON.stringify({ topic: 'x' });
  expect((await deliver(body, { 'X-Tessera-Signature': sign(hook.secret, body) }, '?wait=31')).status).toBe(400);
  const list = '[1,2]';
  expect((await deliver(list, { 'X-Tessera-Signature': sign(hook.secret, list) })).status).toBe(422);
  const unknown = await fetch(`${stack.baseUrl}/hooks/00000000-0000-4000-8000-000000000000`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Tessera-Signature': sign(hook.secret, body) }, body });
  expect(unknown.status).toBe(404);
  expect((await fetch(`${stack.baseUrl}/hooks/not-a-uuid`, { method: 'POST', body })).status).toBe(404);
});

test('a body nested 10,000 levels deep is a 400 and starts nothing', async () => {
  const before = (await webhookRuns(owner)).length;
  const body = '{"topic":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}';
  const res = await deliver(body, { 'X-Tessera-Signature': sign(hook.secret, body) });
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 400, code: 'JSON_TOO_DEEP' });
  expect((await webhookRuns(owner)).length).toBe(before);
});

test('an oversized body is a 413 and starts nothing', async () => {
  const before = (await webhookRuns(owner)).length;
  const body = JSON.stringify({ topic: 'x'.repeat(1024 * 1024 + 10) });
  const res = await deliver(body, { 'X-Tessera-Signature': sign(hook.secret, body) });
  expect(res.status).toBe(413);
  expect((await webhookRuns(owner)).length).toBe(before);
});

test('deliveries to one hook over its rate limit are 429, signed or not; other hooks are not slowed', async () => {
  const limited = (await stack.request('POST', `/api/v1/workflows/${workflowId}/webhooks`, { token: owner.token })).body;
  const statuses: number[] = [];
  for (let i = 0; i < 21; i++) {
    const res = await fetch(limited.url, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Tessera-Signature': 'sha256=' + '0'.repeat(64) }, body: '{}' });
    statuses.push(res.status);
  }
  expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
  expect(statuses[20]).toBe(429);
  const body = JSON.stringify({ topic: 'still fine' });
  expect((await deliver(body, { 'X-Tessera-Signature': sign(hook.secret, body) })).status).toBe(202);
});

test('the runs list filters by trigger and refuses an unknown one', async () => {
  const all = await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}`, { token: owner.token });
  expect(all.body.items.length).toBeGreaterThan(0);
  expect(all.body.items.every((e: any) => e.trigger.type === 'webhook')).toBe(true);
  expect((await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}&trigger=manual,schedule`, { token: owner.token })).body.items).toEqual([]);
  expect((await stack.request('GET', '/api/v1/executions?trigger=carrier-pigeon', { token: owner.token })).status).toBe(400);
});

test('another tenant can neither list nor delete the hook; its owner deletes it and the URL is gone', async () => {
  expect((await stack.request('GET', `/api/v1/workflows/${workflowId}/webhooks`, { token: stranger.token })).status).toBe(404);
  expect((await stack.request('DELETE', `/api/v1/webhooks/${hook.id}`, { token: stranger.token })).status).toBe(404);
  expect((await stack.request('DELETE', `/api/v1/webhooks/${hook.id}`, { token: owner.token })).status).toBe(204);
  const body = JSON.stringify({ topic: 'late' });
  expect((await deliver(body, { 'X-Tessera-Signature': sign(hook.secret, body) })).status).toBe(404);
  const left = (await stack.request('GET', `/api/v1/workflows/${workflowId}/webhooks`, { token: owner.token })).body.webhooks;
  expect(left.map((h: any) => h.id)).not.toContain(hook.id);
});
