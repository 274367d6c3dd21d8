// API keys live no longer and reach no further than the member who made them (issue 14). Each case here was
// reproduced against the API before the fix: a demoted admin's key still listed users and added an admin
// (201); a removed admin's key still minted keys; a key minted with a key had no creator, so its approval
// counted as a second person's and one admin met a quorum of two alone.
import { reviewGraph } from './fixtures/approval-graphs';
import { addMember, createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

jest.setTimeout(180_000);

let stack: TestStack;
let owner: TestSession;

beforeAll(async () => {
  stack = await startTestStack();
  owner = await registerTenant(stack);
});
afterAll(() => stack?.close());

async function mintKey(by: { token?: string; key?: string }, role: string): Promise<string> {
  const res = await stack.request('POST', '/api/v1/api-keys', {
    ...(by.token ? { token: by.token } : {}),
    ...(by.key ? { headers: { 'x-api-key': by.key } } : {}),
    body: { name: `key ${role}`, role },
  });
  expect(res.status).toBe(201);
  return res.body.key;
}

const withKey = (key: string, method: string, path: string, body?: unknown) =>
  stack.request(method, path, { headers: { 'x-api-key': key }, ...(body !== undefined ? { body } : {}) });

it("a key acts with at most its creator's current role", async () => {
  const admin = await addMember(stack, owner, 'admin');
  const key = await mintKey({ token: admin.token }, 'admin');
  expect((await withKey(key, 'GET', '/api/v1/users')).status).toBe(200);

  expect((await stack.request('PATCH', `/api/v1/users/${admin.userId}`, { token: owner.token, body: { role: 'viewer' } })).status).toBe(200);
  expect((await stack.request('GET', '/api/v1/users', { token: admin.token })).status).toBe(403);
  expect((await withKey(key, 'GET', '/api/v1/users')).status).toBe(403);
  const escalate = await withKey(key, 'POST', '/api/v1/users', { email: 'mallory@example.com', password: 'correct horse battery', role: 'admin' });
  expect(escalate.status).toBe(403);
  // Viewer things still work: the key is capped, not dead.
  expect((await withKey(key, 'GET', '/api/v1/workflows')).status).toBe(200);

  // Promoted back, the key has its own role again.
  expect((await stack.request('PATCH', `/api/v1/users/${admin.userId}`, { token: owner.token, body: { role: 'admin' } })).status).toBe(200);
  expect((await withKey(key, 'GET', '/api/v1/users')).status).toBe(200);
});

it("a key dies with its creator's membership, and cannot mint keys after it", async () => {
  const admin = await addMember(stack, owner, 'admin');
  const key = await mintKey({ token: admin.token }, 'admin');
  expect((await stack.request('DELETE', `/api/v1/users/${admin.userId}`, { token: owner.token })).status).toBeLessThan(300);
  const after = await withKey(key, 'GET', '/api/v1/workflows');
  expect(after.status).toBe(401);
  expect(after.body.error.message).toMatch(/no longer in the tenant/);
  expect((await withKey(key, 'POST', '/api/v1/api-keys', { name: 'again', role: 'admin' })).status).toBe(401);
});

it('a key minted with a key traces to the human, and a quorum of two counts that human once', async () => {
  const admin = await addMember(stack, owner, 'admin');
  const first = await mintKey({ token: admin.token }, 'admin');
  const second = await mintKey({ key: first }, 'editor');
  const listed = await stack.request('GET', '/api/v1/api-keys', { token: owner.token });
  const prefixes = listed.body.apiKeys.filter((k: { createdBy: string | null }) => k.createdBy === admin.userId);
  expect(prefixes).toHaveLength(2);

  const workflowId = await createWorkflow(stack, owner, reviewGraph({ quorum: 2 }));
  const executionId = await startRun(stack, owner, workflowId);
  await waitForExecution(stack, owner, executionId, (e) => e.nodes?.some((n: { nodeId: string; status: string }) => n.nodeId === 'review' && n.status === 'waiting'));
  const decide = (by: { token?: string; key?: string }) =>
    stack.request('POST', `/api/v1/executions/${executionId}/approvals/review`, {
      ...(by.token ? { token: by.token } : {}),
      ...(by.key ? { headers: { 'x-api-key': by.key } } : {}),
      body: { decision: 'approve' },
    });
  expect((await decide({ token: admin.token })).body.approval.status).toBe('pending');
  const again = await decide({ key: second });
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('ALREADY_DECIDED_BY_YOU');
  expect((await decide({ token: owner.token })).body.approval.status).toBe('approved');
  expect((await waitForExecution(stack, owner, executionId)).status).toBe('succeeded');
});
