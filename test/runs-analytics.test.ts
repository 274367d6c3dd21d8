// The tenant-wide runs list and the analytics behind the dashboard (issue 13), against the real stack: runs
// with echo, priced and unpriced models of the fake provider and a run the provider refuses. The list filters
// by workflow, status, trigger and time and names each run's workflow and cost; GET /analytics counts runs
// per day and status, times them, prices tokens per model at MODEL_PRICES and ranks failing nodes. Another
// tenant sees none of it (404 for a workflow id of the first), and bad query parameters are 400s.
import { DEFAULT_MODEL_PRICES } from '../core/model-prices';
import { tenantSchemaName } from '../db';
import { singleAgentGraph } from './fixtures/graphs';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

jest.setTimeout(180_000);

let stack: TestStack;
let fake: FakeLlmServer;
let owner: TestSession;
let stranger: TestSession;
const wf = { echo: '', priced: '', failing: '', unpriced: '' };
const runs = { echo: [] as string[], priced: '', failing: '', unpriced: '' };
let startedAt: Date;

beforeAll(async () => {
  fake = await startFakeLlmServer();
  stack = await startTestStack({
    providers: { openai: { apiKey: 'test-openai-key', baseURL: fake.openaiBaseURL }, anthropic: {} },
    modelPrices: { ...DEFAULT_MODEL_PRICES, 'openai/priced-model': { inputPerMTok: 2, outputPerMTok: 10 } },
  });
  await stack.startWorker();
  owner = await registerTenant(stack);
  stranger = await registerTenant(stack);
  startedAt = new Date(Date.now() - 1000);

  fake.script('priced-model', { usage: { inputTokens: 1000, outputTokens: 500 }, text: 'priced answer' });
  fake.script('unpriced-model', { usage: { inputTokens: 10, outputTokens: 5 }, text: 'unpriced answer' });
  fake.script('locked-model', { status: 401, message: 'Incorrect API key provided' });
  wf.echo = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'echo', model: 'echo-1' }), 'Echo digest');
  wf.priced = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'openai', model: 'priced-model' }), 'Priced summary');
  wf.failing = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'openai', model: 'locked-model', retry: { maximumAttempts: 1 } }), 'Locked out');
  wf.unpriced = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'openai', model: 'unpriced-model' }), 'Unpriced');

  runs.echo = [await startRun(stack, owner, wf.echo), await startRun(stack, owner, wf.echo)];
  runs.priced = await startRun(stack, owner, wf.priced);
  runs.failing = await startRun(stack, owner, wf.failing);
  runs.unpriced = await startRun(stack, owner, wf.unpriced);
  for (const id of [...runs.echo, runs.priced, runs.failing, runs.unpriced]) await waitForExecution(stack, owner, id);
}, 300_000);

afterAll(async () => {
  await stack?.close();
  await fake?.close();
});

const ids = (body: { items: Array<{ id: string }> }) => body.items.map((e) => e.id).sort();

async function list(session: TestSession, query: string) {
  const res = await stack.request('GET', `/api/v1/executions?${query}`, { token: session.token });
  expect({ query, status: res.status }).toEqual({ query, status: 200 });
  return res.body;
}

describe('GET /executions: the tenant-wide runs list', () => {
  it('filters by status, workflow, trigger and creation time', async () => {
    expect(ids(await list(owner, 'status=failed'))).toEqual([runs.failing]);
    expect(ids(await list(owner, 'status=succeeded'))).toEqual([...runs.echo, runs.priced, runs.unpriced].sort());
    expect(ids(await list(owner, `workflowId=${wf.echo}`))).toEqual([...runs.echo].sort());
    expect(ids(await list(owner, `workflowId=${wf.echo}&status=failed`))).toEqual([]);
    expect(ids(await list(owner, 'trigger=manual'))).toHaveLength(5);
    expect(ids(await list(owner, 'trigger=schedule,webhook'))).toEqual([]);
    const inside = `from=${encodeURIComponent(startedAt.toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`;
    expect(ids(await list(owner, inside))).toHaveLength(5);
    expect(ids(await list(owner, `from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`))).toEqual([]);
    expect(ids(await list(owner, `to=${encodeURIComponent(startedAt.toISOString())}`))).toEqual([]);
  });

  it("names each run's workflow, keeps its error and prices its tokens (null on a model without a price)", async () => {
    const byId = new Map<string, any>((await list(owner, 'limit=50')).items.map((e: any) => [e.id, e]));
    expect(byId.get(runs.priced)).toMatchObject({ workflowName: 'Priced summary', status: 'succeeded', usage: { inputTokens: 1000, outputTokens: 500, totalTokens: 1500 } });
    expect(byId.get(runs.priced).costUsd).toBeCloseTo((1000 * 2 + 500 * 10) / 1e6, 10);
    expect(byId.get(runs.echo[0]!)).toMatchObject({ workflowName: 'Echo digest', costUsd: 0 });
    expect(byId.get(runs.unpriced)).toMatchObject({ workflowName: 'Unpriced', costUsd: null });
    expect(byId.get(runs.failing)).toMatchObject({ workflowName: 'Locked out', status: 'failed', error: { nodeId: 'ask' } });
    expect(byId.get(runs.failing).error.message).toMatch(/Incorrect API key/);
    expect(byId.get(runs.failing).startedAt).not.toBeNull();
    expect(byId.get(runs.failing).finishedAt).not.toBeNull();
  });

  it('pages a filtered list by cursor: every run once', async () => {
    const first = await list(owner, 'status=succeeded&limit=3');
    expect(first.items).toHaveLength(3);
    const second = await list(owner, `status=succeeded&limit=3&cursor=${encodeURIComponent(first.nextCursor)}`);
    expect(second.nextCursor).toBeNull();
    expect([...ids(first), ...ids(second)].sort()).toEqual([...runs.echo, runs.priced, runs.unpriced].sort());
  });
});

describe('GET /analytics', () => {
  it('counts runs per day by status, times them, and prices tokens per model', async () => {
    const res = await stack.request('GET', '/api/v1/analytics', { token: owner.token });
    expect(res.status).toBe(200);
    const a = res.body;
    expect(a.runsPerDay).toHaveLength(31); // the last 30 days touch 31 UTC days
    const today = a.runsPerDay.find((d: any) => d.day === new Date().toISOString().slice(0, 10));
    expect(today).toEqual({ day: expect.any(String), total: 5, byStatus: { succeeded: 4, failed: 1 } });
    expect(a.runsPerDay.reduce((n: number, d: any) => n + d.total, 0)).toBe(5);
    expect(a.duration.runs).toBe(5);
    expect(a.duration.p50Ms).toBeGreaterThan(0);
    expect(a.duration.p95Ms).toBeGreaterThanOrEqual(a.duration.p50Ms);
    expect(a.duration.perDay).toEqual([{ day: today.day, runs: 5, p50Ms: a.duration.p50Ms, p95Ms: a.duration.p95Ms }]);

    const model = (provider: string, name: string) => a.models.find((m: any) => m.provider === provider && m.model === name);
    expect(model('openai', 'priced-model')).toMatchObject({ runs: 1, inputTokens: 1000, outputTokens: 500, totalTokens: 1500 });
    expect(model('openai', 'priced-model').costUsd).toBeCloseTo(0.007, 10);
    expect(model('echo', 'echo-1')).toMatchObject({ runs: 2, costUsd: 0 });
    expect(model('echo', 'echo-1').totalTokens).toBeGreaterThan(0);
    expect(model('openai', 'unpriced-model')).toMatchObject({ runs: 1, inputTokens: 10, outputTokens: 5, costUsd: null });
    // Some tokens have no price: the total cost is unknown rather than too low.
    expect(a.totals).toMatchObject({ runs: 5, costUsd: null });
    expect(a.totals.totalTokens).toBe(a.models.reduce((n: number, m: any) => n + m.totalTokens, 0));

    expect(a.failingNodes).toEqual([
      { workflowId: wf.failing, workflowName: 'Locked out', nodeId: 'ask', nodeType: 'agent', failures: 1, lastFailedAt: expect.any(String), lastError: expect.objectContaining({ message: expect.stringMatching(/Incorrect API key/) }) },
    ]);
  });

  it('narrows to one workflow and to a time range', async () => {
    const priced = await stack.request('GET', `/api/v1/analytics?workflowId=${wf.priced}`, { token: owner.token });
    expect(priced.status).toBe(200);
    expect(priced.body.workflowId).toBe(wf.priced);
    expect(priced.body.totals).toMatchObject({ runs: 1, inputTokens: 1000, outputTokens: 500, totalTokens: 1500 });
    expect(priced.body.totals.costUsd).toBeCloseTo(0.007, 10);
    expect(priced.body.failingNodes).toEqual([]);

    const failing = await stack.request('GET', `/api/v1/analytics?workflowId=${wf.failing}`, { token: owner.token });
    expect(failing.body.failingNodes.map((n: any) => n.nodeId)).toEqual(['ask']);

    // Moved to ten days ago, a run counts on that day and leaves a range that starts after it.
    const day = new Date(Date.now() - 10 * 86_400_000);
    await stack.db.dataSource.query(`update ${tenantSchemaName(owner.tenantId)}.executions set created_at = $1 where id = $2`, [day, runs.echo[1]]);
    const echo = await stack.request('GET', `/api/v1/analytics?workflowId=${wf.echo}`, { token: owner.token });
    expect(echo.body.runsPerDay.find((d: any) => d.day === day.toISOString().slice(0, 10))).toMatchObject({ total: 1, byStatus: { succeeded: 1 } });
    const recent = await stack.request('GET', `/api/v1/analytics?workflowId=${wf.echo}&from=${encodeURIComponent(new Date(Date.now() - 86_400_000).toISOString())}`, { token: owner.token });
    expect(recent.body.totals.runs).toBe(1);
    expect(recent.body.runsPerDay.length).toBeGreaterThanOrEqual(2);
    expect(ids(await list(owner, `workflowId=${wf.echo}&from=${encodeURIComponent(new Date(Date.now() - 86_400_000).toISOString())}`))).toEqual([runs.echo[0]!]);
  });
});

describe('tenant isolation', () => {
  it("another tenant sees none of the runs or figures, and gets 404 for the first tenant's workflow", async () => {
    expect((await list(stranger, 'limit=200')).items).toEqual([]);
    const theirs = await stack.request('GET', '/api/v1/analytics', { token: stranger.token });
    expect(theirs.status).toBe(200);
    expect(theirs.body).toMatchObject({ totals: { runs: 0, totalTokens: 0, costUsd: 0 }, models: [], failingNodes: [], duration: { runs: 0, p50Ms: null, p95Ms: null } });
    expect(theirs.body.runsPerDay.every((d: any) => d.total === 0)).toBe(true);
    for (const path of [`/api/v1/analytics?workflowId=${wf.echo}`, `/api/v1/executions?workflowId=${wf.echo}`]) {
      const res = await stack.request('GET', path, { token: stranger.token });
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 404, code: 'NOT_FOUND' });
    }
  });
});

describe('bad query parameters', () => {
  it('are a 400 with {error: {code, message, details}} naming the parameter', async () => {
    const far = new Date(Date.now() - 400 * 86_400_000).toISOString();
    for (const [path, param] of [
      ['/api/v1/analytics?from=yesterday', 'query.from'],
      ['/api/v1/analytics?to=2026-13-01T00:00:00Z', 'query.to'],
      [`/api/v1/analytics?from=${encodeURIComponent(new Date().toISOString())}&to=${encodeURIComponent(startedAt.toISOString())}`, 'query.from'],
      [`/api/v1/analytics?from=${encodeURIComponent(far)}`, 'query.to'],
      ['/api/v1/executions?from=last%20week', 'query.from'],
      ['/api/v1/executions?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'query.from'],
      ['/api/v1/executions?status=exploded', 'query.status.0'],
      ['/api/v1/executions?trigger=telepathy', 'query.trigger.0'],
    ] as const) {
      const res = await stack.request('GET', path, { token: owner.token });
      expect({ path, status: res.status, code: res.body.error?.code, message: typeof res.body.error?.message }).toEqual({ path, status: 400, code: 'VALIDATION_FAILED', message: 'string' });
      expect({ path, where: res.body.error.details.issues.map((i: { path: string }) => i.path) }).toEqual({ path, where: expect.arrayContaining([param]) });
    }
  });
});
