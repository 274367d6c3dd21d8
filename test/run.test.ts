// A canvas saved through the API runs as a Temporal workflow on a real worker, and its progress reaches a
// WebSocket client: real PostgreSQL, Redis and Temporal dev server.
import { Worker } from '@temporalio/worker';
import { tesseraDataConverter } from '../db/temporal-payload-codec';
import { fanOutGraph, OUTLASTING_TURN_MS, singleAgentGraph } from './fixtures/graphs';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';
import { openSocket } from './support/ws-client';

jest.setTimeout(120_000);

let stack: TestStack;
let fake: FakeLlmServer;
let owner: TestSession;

beforeAll(async () => {
  fake = await startFakeLlmServer();
  stack = await startTestStack({
    providers: {
      openai: { apiKey: 'test-openai-key', baseURL: fake.openaiBaseURL },
      anthropic: { apiKey: 'test-anthropic-key', baseURL: fake.anthropicBaseURL },
    },
  });
  owner = await registerTenant(stack);
});

afterAll(async () => {
  await stack?.close();
  await fake?.close();
});

beforeEach(() => fake.reset());

describe('a 7-node canvas with fan-out, fan-in and a false condition branch', () => {
  let executionId: string;
  let result: any;
  let socketEvents: any[];

  beforeAll(async () => {
    const workflowId = await createWorkflow(stack, owner, fanOutGraph(1500));
    const socket = await openSocket(stack.wsUrl, owner.token);
    const started = Date.now();
    executionId = await startRun(stack, owner, workflowId, { topic: 'otters' });
    socket.send({ type: 'subscribe', executionId, afterSeq: 0 });
    await socket.waitFor((m) => m.type === 'event' && m.event.type === 'execution.succeeded', 60_000);
    result = await waitForExecution(stack, owner, executionId);
    result.latencyMs = Date.now() - started;
    socketEvents = socket.messages.filter((m) => m.type === 'event').map((m) => m.event);
    await socket.close();
  });

  it('succeeds with the outputs of the output nodes that ran', () => {
    expect(result.status).toBe('succeeded');
    expect(result.outputs).toEqual({ done: 'short: A on otters + B on otters' });
  });

  it('marks the untaken branch skipped and every other node succeeded', () => {
    const status = Object.fromEntries(result.nodes.map((n: any) => [n.nodeId, n.status]));
    expect(status).toEqual({ start: 'succeeded', a: 'succeeded', b: 'succeeded', join: 'succeeded', check: 'succeeded', publish: 'skipped', done: 'succeeded' });
  });

  it('records each agent turn with its output, provider and attempts', () => {
    const a = result.nodes.find((n: any) => n.nodeId === 'a');
    expect(a.output.text).toBe('A on otters');
    expect(a.output.provider).toBe('echo');
    expect(a.attempts).toBe(1);
    expect(Date.parse(a.startedAt)).toBeLessThan(Date.parse(a.finishedAt));
  });

  it('delivers every event over the WebSocket once, in seq order, as stored', async () => {
    const stored = await stack.request('GET', `/api/v1/executions/${executionId}/events?after=0`, { token: owner.token });
    expect(stored.status).toBe(200);
    expect(socketEvents.map((e) => e.seq)).toEqual(stored.body.events.map((e: any) => e.seq));
    expect(socketEvents.map((e) => e.seq)).toEqual(socketEvents.map((_, i) => i + 1));
    const types = socketEvents.map((e) => `${e.type}${e.nodeId ? `:${e.nodeId}` : ''}`);
    expect(types[0]).toBe('execution.started');
    expect(types[types.length - 1]).toBe('execution.succeeded');
    expect(types).toContain('node.skipped:publish');
    expect(types.indexOf('node.succeeded:join')).toBeGreaterThan(types.indexOf('node.succeeded:a'));
    expect(types.indexOf('node.succeeded:join')).toBeGreaterThan(types.indexOf('node.succeeded:b'));
  });

  it('replays only the events after afterSeq to a late subscriber', async () => {
    const socket = await openSocket(stack.wsUrl, owner.token);
    socket.send({ type: 'subscribe', executionId, afterSeq: 3 });
    const subscribed = await socket.waitFor((m) => m.type === 'subscribed');
    const replayed = socket.messages.filter((m) => m.type === 'event').map((m) => m.event.seq);
    expect(replayed[0]).toBe(4);
    expect(subscribed.lastSeq).toBe(socketEvents.length);
    await socket.close();
  });

  it('records the run under the tenant-scoped Temporal workflow id with typed search attributes', async () => {
    expect(result.temporal.workflowId).toBe(`tenant/${owner.tenantId}/execution/${executionId}`);
    const described = await stack.temporal.workflow.getHandle(result.temporal.workflowId).describe();
    expect(described.status.name).toBe('COMPLETED');
    const attrs = described.typedSearchAttributes;
    const byName = Object.fromEntries(attrs.getAll().map((p) => [p.key.name, p.value]));
    expect(byName).toMatchObject({ TenantId: owner.tenantId, ExecutionId: executionId, TesseraWorkflowId: result.workflowId });
    console.log(`7-node echo graph: POST to succeeded in ${result.latencyMs} ms (two parallel 1500 ms turns)`);
  });

  it('replays its recorded history deterministically with the current workflow code', async () => {
    const history = await stack.temporal.workflow.getHandle(result.temporal.workflowId).fetchHistory();
    await expect(Worker.runReplayHistory({ workflowBundle: stack.workflowBundle, dataConverter: tesseraDataConverter(stack.payloadCodec) }, history, result.temporal.workflowId)).resolves.toBeUndefined();
  });
});

describe('starting runs', () => {
  it('runs the fan-out agent turns at the same time', async () => {
    // Each provider call is answered only once both have arrived: run one after the other, the first would
    // never be answered and the run would not finish. No window of time to hit, however slow the machine.
    fake.script('fan-a', { holdUntilCalls: 2 });
    fake.script('fan-b', { holdUntilCalls: 2 });
    const graph = fanOutGraph(0);
    for (const n of graph.nodes) if (n.id === 'a' || n.id === 'b') n.data = { provider: 'openai', model: `fan-${n.id}`, prompt: `${n.id} on {{inputs.topic}}`, delayMs: 0 };
    const workflowId = await createWorkflow(stack, owner, graph);
    const done = await waitForExecution(stack, owner, await startRun(stack, owner, workflowId, { topic: 'kelp' }));
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual({ done: 'short: fake:fan-a:a on kelp + fake:fan-b:b on kelp' });
    expect(fake.calls.map((c) => c.model).sort()).toEqual(['fan-a', 'fan-b']);
  });

  it('starts one execution for two POSTs with the same Idempotency-Key', async () => {
    const workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'echo', model: 'echo-1' }));
    const headers = { 'Idempotency-Key': `key-${Date.now()}` };
    const [first, second] = await Promise.all([
      stack.request('POST', `/api/v1/workflows/${workflowId}/executions`, { token: owner.token, body: { inputs: {} }, headers }),
      stack.request('POST', `/api/v1/workflows/${workflowId}/executions`, { token: owner.token, body: { inputs: {} }, headers }),
    ]);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    const list = await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}`, { token: owner.token });
    expect(list.body.items).toHaveLength(1);
    await waitForExecution(stack, owner, first.body.id);
  });

  it('refuses inputs that do not match the trigger with 422 and starts nothing', async () => {
    const workflowId = await createWorkflow(stack, owner, fanOutGraph(0));
    const res = await stack.request('POST', `/api/v1/workflows/${workflowId}/executions`, { token: owner.token, body: { inputs: { nope: 1 } } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('INPUTS_INVALID');
    const list = await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}`, { token: owner.token });
    expect(list.body.items).toHaveLength(0);
  });

  it('refuses to run a saved draft with validation problems', async () => {
    const graph = fanOutGraph(0);
    graph.edges.push({ id: 'loop', source: 'join', target: 'a' });
    const workflowId = await createWorkflow(stack, owner, graph);
    const res = await stack.request('POST', `/api/v1/workflows/${workflowId}/executions`, { token: owner.token, body: { inputs: { topic: 'x' } } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('GRAPH_INVALID');
    expect(res.body.error.details.errors.map((e: any) => e.code)).toContain('CYCLE');
  });

  it('runs the version it was started with, even after the canvas is edited', async () => {
    const workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'echo', model: 'echo-1', delayMs: 1500 }));
    const executionId = await startRun(stack, owner, workflowId, { topic: 'v1' });
    const edited = singleAgentGraph({ provider: 'echo', model: 'echo-1', prompt: 'changed {{inputs.topic}}' });
    const put = await stack.request('PUT', `/api/v1/workflows/${workflowId}`, { token: owner.token, body: { graph: edited } });
    expect(put.body.version).toBe(2);
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.workflowVersion).toBe(1);
    expect(done.outputs).toEqual({ out: 'Tell me about v1' });
  });
});

describe('cancelling', () => {
  it('cancels a run mid-turn: status cancelled and the running turn stops', async () => {
    // The turn would take an hour: the run can only end within the wait below if the cancel stopped it.
    const workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'echo', model: 'echo-1', delayMs: OUTLASTING_TURN_MS }));
    const executionId = await startRun(stack, owner, workflowId);
    await waitForExecution(stack, owner, executionId, (e) => e.nodes.some((n: any) => n.nodeId === 'ask' && n.status === 'running'));
    const res = await stack.request('POST', `/api/v1/executions/${executionId}/cancel`, { token: owner.token });
    expect(res.status).toBe(202);
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('cancelled');
    expect(done.nodes.find((n: any) => n.nodeId === 'ask').status).toBe('cancelled');
    expect(done.nodes.find((n: any) => n.nodeId === 'out').status).toBe('cancelled');
    // The run recorded its own end, rather than leaving the row for the API to repair from Temporal's word.
    expect(done.error).toBeNull();
    const events = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
    expect(events.body.events.map((e: any) => e.type).at(-1)).toBe('execution.cancelled');
    const again = await stack.request('POST', `/api/v1/executions/${executionId}/cancel`, { token: owner.token });
    expect(again.status).toBe(409);
  });

  it('a node that fails stops its running sibling, and the sibling is recorded cancelled', async () => {
    fake.script('locked-model', { status: 401, message: 'Incorrect API key provided' });
    const graph = fanOutGraph(OUTLASTING_TURN_MS);
    const a = graph.nodes.find((n) => n.id === 'a') as { data: Record<string, unknown> };
    a.data = { provider: 'openai', model: 'locked-model', prompt: 'A on {{inputs.topic}}' };
    const workflowId = await createWorkflow(stack, owner, graph);
    const executionId = await startRun(stack, owner, workflowId, { topic: 'slate' });
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('failed');
    expect(done.error.nodeId).toBe('a');
    const status = Object.fromEntries(done.nodes.map((n: any) => [n.nodeId, n.status]));
    expect(status).toEqual({ start: 'succeeded', a: 'failed', b: 'cancelled', join: 'cancelled', check: 'cancelled', publish: 'cancelled', done: 'cancelled' });
  });

  it('aborts a slow provider call when the run is cancelled', async () => {
    fake.script('slow-model', { delayMs: OUTLASTING_TURN_MS });
    const workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'openai', model: 'slow-model' }));
    const executionId = await startRun(stack, owner, workflowId);
    await fake.waitForCalls(1);
    await stack.request('POST', `/api/v1/executions/${executionId}/cancel`, { token: owner.token });
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('cancelled');
    await waitUntil('the provider sees the call hang up', () => fake.callsFor('slow-model')[0]?.aborted);
    expect(fake.callsFor('slow-model')[0]?.status).toBeUndefined();
  });
});

describe('providers through the real SDKs and Temporal retries', () => {
  it.each(['openai', 'anthropic'] as const)('%s: a 429 is retried and the run succeeds', async (provider) => {
    const model = `${provider}-flaky`;
    fake.script(model, { status: 429, message: 'Rate limit reached' });
    const workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider, model, retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2 } }));
    const executionId = await startRun(stack, owner, workflowId, { topic: 'rain' });
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('succeeded');
    expect(fake.callsFor(model)).toHaveLength(2);
    const node = done.nodes.find((n: any) => n.nodeId === 'ask');
    expect(node.attempts).toBe(2);
    expect(node.output.text).toBe(`fake:${model}:Tell me about rain`);
    expect(done.usage.totalTokens).toBeGreaterThan(0);
    const events = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
    expect(events.body.events.map((e: any) => e.type)).toContain('node.retrying');
  });

  it.each(['openai', 'anthropic'] as const)('%s: a 401 fails the node at once with the provider message', async (provider) => {
    const model = `${provider}-locked`;
    fake.script(model, { status: 401, message: 'Incorrect API key provided: sk-****' });
    const workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider, model, retry: { maximumAttempts: 5, initialIntervalSeconds: 0.2 } }));
    const executionId = await startRun(stack, owner, workflowId);
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('failed');
    expect(fake.callsFor(model)).toHaveLength(1);
    expect(done.error.nodeId).toBe('ask');
    expect(done.error.message).toContain('Incorrect API key provided');
    const node = done.nodes.find((n: any) => n.nodeId === 'ask');
    expect(node.status).toBe('failed');
    expect(node.error.message).toContain('Incorrect API key provided');
    expect(done.nodes.find((n: any) => n.nodeId === 'out').status).toBe('cancelled');
  });
});

describe('tenant isolation', () => {
  let other: TestSession;
  let workflowId: string;
  let executionId: string;

  beforeAll(async () => {
    other = await registerTenant(stack, 'Other Corp');
    workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'echo', model: 'echo-1' }));
    executionId = await startRun(stack, owner, workflowId);
    await waitForExecution(stack, owner, executionId);
  });

  it.each([
    ['GET', () => `/api/v1/workflows/${workflowId}`],
    ['PUT', () => `/api/v1/workflows/${workflowId}`],
    ['DELETE', () => `/api/v1/workflows/${workflowId}`],
    ['GET', () => `/api/v1/workflows/${workflowId}/versions`],
    ['POST', () => `/api/v1/workflows/${workflowId}/executions`],
    ['GET', () => `/api/v1/executions/${executionId}`],
    ['GET', () => `/api/v1/executions/${executionId}/events`],
    ['POST', () => `/api/v1/executions/${executionId}/cancel`],
  ])("another tenant's %s %s answers 404", async (method, path) => {
    const body = method === 'PUT' ? { name: 'stolen' } : method === 'POST' ? {} : undefined;
    const res = await stack.request(method, path(), { token: other.token, ...(body ? { body } : {}) });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it("lists only the caller's workflows and executions", async () => {
    const wf = await stack.request('GET', '/api/v1/workflows', { token: other.token });
    expect(wf.body.items).toEqual([]);
    const ex = await stack.request('GET', '/api/v1/executions', { token: other.token });
    expect(ex.body.items).toEqual([]);
    const mine = await stack.request('GET', `/api/v1/workflows/${workflowId}`, { token: owner.token });
    expect(mine.body.name).toBe('Test workflow');
  });

  it("refuses a WebSocket subscription to another tenant's execution", async () => {
    const socket = await openSocket(stack.wsUrl, other.token);
    socket.send({ type: 'subscribe', executionId, afterSeq: 0 });
    const err = await socket.waitFor((m) => m.type === 'error');
    expect(err.code).toBe('NOT_FOUND');
    expect(socket.messages.filter((m) => m.type === 'event')).toEqual([]);
    await socket.close();
  });

  it('refuses a WebSocket without a valid token', async () => {
    await expect(openSocket(stack.wsUrl, 'not-a-token')).rejects.toThrow(/401/);
  });
});
