// The API's in-memory read caches (a member's role, finished runs) never answer for something that changed:
// the process that makes a change forgets at once, every other API process when the invalidation bus tells
// it. The second API here keeps members for an hour, so only the bus can make it see a change.
import { addMember, createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startSecondApi, startTestStack, type ApiClient, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';

const HOUR_MS = 60 * 60_000;

const quickGraph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: {} } },
    { id: 'out', type: 'output', position: { x: 200, y: 0 }, data: { value: 'done' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'out' }],
};

describe('read caches across two API processes', () => {
  let stack: TestStack;
  let other: ApiClient;
  let second: Awaited<ReturnType<typeof startSecondApi>>;
  let owner: TestSession;

  beforeAll(async () => {
    stack = await startTestStack();
    second = await startSecondApi(stack, { memberCacheTtlMs: HOUR_MS });
    other = second.api;
    owner = await registerTenant(stack);
  });
  afterAll(async () => {
    await second?.close();
    await stack?.close();
  });

  it('a demoted admin loses admin routes at once where the change was made and on the other API once told', async () => {
    const admin = await addMember(stack, owner, 'admin');
    // Both processes now hold the admin's role.
    expect((await stack.request('GET', '/api/v1/tenant/audit-log', { token: admin.token })).status).toBe(200);
    expect((await other.request('GET', '/api/v1/tenant/audit-log', { token: admin.token })).status).toBe(200);

    const demoted = await stack.request('PATCH', `/api/v1/users/${admin.userId}`, { token: owner.token, body: { role: 'viewer' } });
    expect(demoted.status).toBe(200);
    expect((await stack.request('GET', '/api/v1/tenant/audit-log', { token: admin.token })).status).toBe(403);
    await waitUntil('the other API to see the demotion', async () => (await other.request('GET', '/api/v1/tenant/audit-log', { token: admin.token })).status === 403);
  });

  it('a removed member is refused by both APIs', async () => {
    const editor = await addMember(stack, owner, 'editor');
    expect((await other.request('GET', '/api/v1/workflows', { token: editor.token })).status).toBe(200);
    expect((await stack.request('DELETE', `/api/v1/users/${editor.userId}`, { token: owner.token })).status).toBeLessThan(300);
    expect((await stack.request('GET', '/api/v1/workflows', { token: editor.token })).status).toBe(401);
    await waitUntil('the other API to refuse the removed member', async () => (await other.request('GET', '/api/v1/workflows', { token: editor.token })).status === 401);
  });

  it('a finished run is answered from memory for its tenant only, and stays readable everywhere once its workflow is deleted', async () => {
    const workflowId = await createWorkflow(stack, owner, quickGraph, 'Quick');
    const executionId = await startRun(stack, owner, workflowId);
    await waitForExecution(stack, owner, executionId, (e) => e.status === 'succeeded');
    const first = await other.request('GET', `/api/v1/executions/${executionId}`, { token: owner.token });
    expect(first.status).toBe(200);
    expect(first.body.outputs).toEqual({ out: 'done' });
    const again = await other.request('GET', `/api/v1/executions/${executionId}`, { token: owner.token });
    expect(again.body).toEqual(first.body);

    const stranger = await registerTenant(stack);
    expect((await other.request('GET', `/api/v1/executions/${executionId}`, { token: stranger.token })).status).toBe(404);

    expect((await stack.request('DELETE', `/api/v1/workflows/${workflowId}`, { token: owner.token })).status).toBe(204);
    // A deleted workflow keeps its history (docs/security.md "Deleting a workflow"): both APIs answer the run as it was.
    expect((await stack.request('GET', `/api/v1/executions/${executionId}`, { token: owner.token })).body).toEqual(first.body);
    expect((await other.request('GET', `/api/v1/executions/${executionId}`, { token: owner.token })).body).toEqual(first.body);
  });

  it('a deleted tenant\'s tokens stop working on the other API too', async () => {
    const doomed = await registerTenant(stack);
    expect((await other.request('GET', '/api/v1/workflows', { token: doomed.token })).status).toBe(200);
    const [{ slug }] = await stack.db.dataSource.query('select slug from public.tenants where id = $1', [doomed.tenantId]);
    expect((await stack.request('DELETE', '/api/v1/tenant', { token: doomed.token, body: { confirmSlug: slug } })).status).toBe(204);
    await waitUntil('the other API to refuse the deleted tenant', async () => (await other.request('GET', '/api/v1/workflows', { token: doomed.token })).status === 401);
  });
});
