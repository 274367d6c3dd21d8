// Retry from a node (POST /executions/:id/retry, DESIGN.md §8) against real Temporal, PostgreSQL and Redis, with
// the agents on the fake provider: a chain agent1 → agent2 → agent3 whose last agent fails for good, retried.
// Every model call is counted where it lands, so the tests can say which agents ran again and which did not.
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { OUTLASTING_TURN_MS } from './fixtures/graphs';
import { addMember, createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

jest.setTimeout(180_000);

let stack: TestStack;
let fake: FakeLlmServer;
let owner: TestSession;

/** start → agent1 → agent2 → agent3 → out; each agent's prompt quotes the one before, so outputs show the chain. */
function chainGraph(third: { model?: string; prompt?: string } = {}) {
  const agent = (id: string, model: string, prompt: string, x: number) => ({ id, type: 'agent', position: { x, y: 0 }, data: { provider: 'openai', model, prompt } });
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
      agent('agent1', 'm1', 'one on {{inputs.topic}}', 200),
      agent('agent2', 'm2', 'two after {{nodes.agent1.text}}', 400),
      agent('agent3', third.model ?? 'm3', third.prompt ?? 'three after {{nodes.agent2.text}}', 600),
      { id: 'out', type: 'output', position: { x: 800, y: 0 }, data: { value: '{{nodes.agent3.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'agent1' },
      { id: 'e2', source: 'agent1', target: 'agent2' },
      { id: 'e3', source: 'agent2', target: 'agent3' },
      { id: 'e4', source: 'agent3', target: 'out' },
    ],
  };
}

const calls = () => Object.fromEntries(['m1', 'm2', 'm3'].map((m) => [m, fake.callsFor(m).length]));

async function retry(id: string, body: Record<string, unknown> = {}, as: TestSession = owner, headers: Record<string, string> = {}) {
  return stack.request('POST', `/api/v1/executions/${id}/retry`, { token: as.token, body, headers });
}

/** A run of the chain whose agent3 fails with a 401 (not retryable): failed at agent3 after one call of each agent. */
async function failedRun(workflowId: string): Promise<string> {
  fake.script('m3', { status: 401, message: 'Incorrect API key provided' });
  const id = await startRun(stack, owner, workflowId, { topic: 'kelp' });
  const done = await waitForExecution(stack, owner, id);
  expect({ status: done.status, failedAt: done.error?.nodeId }).toEqual({ status: 'failed', failedAt: 'agent3' });
  return id;
}

const node = (execution: any, id: string) => execution.nodes.find((n: any) => n.nodeId === id);

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

describe('retry from the failed node', () => {
  let workflowId: string;
  let fullOutputs: unknown;
  let failedId: string;
  const retries: string[] = [];

  beforeAll(async () => {
    workflowId = await createWorkflow(stack, owner, chainGraph());
    const full = await waitForExecution(stack, owner, await startRun(stack, owner, workflowId, { topic: 'kelp' }));
    expect(full.status).toBe('succeeded');
    fullOutputs = full.outputs;
    fake.reset();
    failedId = await failedRun(workflowId);
    expect(calls()).toEqual({ m1: 1, m2: 1, m3: 1 });
  });

  it('runs only the failed node and what follows: agent1 and agent2 are not called again, the outputs equal a full run', async () => {
    fake.reset();
    const res = await retry(failedId);
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/api/v1/executions/${res.body.id}`);
    expect(res.body.execution).toMatchObject({ retryOf: failedId, trigger: { type: 'retry', retryOf: failedId }, workflowVersion: 1, inputs: { topic: 'kelp' } });
    retries.push(res.body.id);
    const done = await waitForExecution(stack, owner, res.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual(fullOutputs);
    expect(calls()).toEqual({ m1: 0, m2: 0, m3: 1 });
    expect(done.retryOf).toBe(failedId);
    // The kept nodes say so, with the old outputs and no attempt of their own; the retried one ran here.
    expect(node(done, 'agent1')).toMatchObject({ status: 'succeeded', attempts: 0, reusedFrom: failedId, output: { text: 'fake:m1:one on kelp' } });
    expect(node(done, 'agent2')).toMatchObject({ status: 'succeeded', attempts: 0, reusedFrom: failedId });
    expect(node(done, 'agent3')).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(node(done, 'agent3').reusedFrom).toBeUndefined();
    const events = (await stack.request('GET', `/api/v1/executions/${res.body.id}/events`, { token: owner.token })).body.events;
    expect(events.filter((e: any) => e.data?.reusedFrom === failedId).map((e: any) => `${e.type}:${e.nodeId}`)).toEqual([
      'node.succeeded:start',
      'node.succeeded:agent1',
      'node.succeeded:agent2',
    ]);
    expect(events.filter((e: any) => e.type === 'node.started').map((e: any) => e.nodeId)).toEqual(['agent3', 'out']);
  });

  it('from agent2 runs agent2 and agent3 again, not agent1', async () => {
    const res = await retry(failedId, { fromNodeId: 'agent2' });
    expect(res.status).toBe(202);
    retries.push(res.body.id);
    const done = await waitForExecution(stack, owner, res.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual(fullOutputs);
    expect(calls()).toEqual({ m1: 0, m2: 1, m3: 1 });
    expect(node(done, 'agent1').reusedFrom).toBe(failedId);
    expect(node(done, 'agent2').reusedFrom).toBeUndefined();
  });

  it('the same Idempotency-Key answers the same retry', async () => {
    const headers = { 'Idempotency-Key': `retry-${failedId}` };
    const first = await retry(failedId, {}, owner, headers);
    const second = await retry(failedId, {}, owner, headers);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    retries.push(first.body.id);
    await waitForExecution(stack, owner, first.body.id);
    expect(calls()).toEqual({ m1: 0, m2: 0, m3: 1 });
  });

  it('GET /executions?trigger=retry lists the retries', async () => {
    const listed = await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}&trigger=retry`, { token: owner.token });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((e: any) => e.id).sort()).toEqual([...retries].sort());
    expect(listed.body.items.every((e: any) => e.trigger.type === 'retry' && e.retryOf === failedId)).toBe(true);
  });

  it('on the latest version after an edit: the unchanged agents are kept, the edited one runs with its new prompt', async () => {
    const saved = await stack.request('PUT', `/api/v1/workflows/${workflowId}`, { token: owner.token, body: { graph: chainGraph({ prompt: 'THREE after {{nodes.agent2.text}}' }) } });
    expect(saved.status).toBe(200);
    const res = await retry(failedId, { version: 'latest' });
    expect(res.status).toBe(202);
    const done = await waitForExecution(stack, owner, res.body.id);
    expect(done).toMatchObject({ status: 'succeeded', workflowVersion: saved.body.version, retryOf: failedId });
    expect(done.outputs).toEqual({ out: 'fake:m3:THREE after fake:m2:two after fake:m1:one on kelp' });
    expect(calls()).toEqual({ m1: 0, m2: 0, m3: 1 });
    // On the original version the old prompt runs again.
    const original = await waitForExecution(stack, owner, (await retry(failedId, { version: 'original' })).body.id);
    expect(original).toMatchObject({ status: 'succeeded', workflowVersion: 1, outputs: fullOutputs });
  });

  it('on the latest version a node it no longer has is a 422 naming it', async () => {
    const graph = chainGraph();
    graph.nodes = graph.nodes.filter((n) => n.id !== 'agent3');
    graph.nodes.find((n) => n.id === 'out')!.data = { value: '{{nodes.agent2.text}}' };
    graph.edges = [...graph.edges.filter((e) => e.source !== 'agent3' && e.target !== 'agent3'), { id: 'e5', source: 'agent2', target: 'out' }];
    expect((await stack.request('PUT', `/api/v1/workflows/${workflowId}`, { token: owner.token, body: { graph } })).status).toBe(200);
    const res = await retry(failedId, { version: 'latest' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'UNKNOWN_NODE', details: { nodeIds: ['agent3'] } });
    expect(res.body.error.message).toContain('agent3');
  });
});

describe('what a retry refuses', () => {
  let workflowId: string;
  let failedId: string;

  beforeAll(async () => {
    workflowId = await createWorkflow(stack, owner, chainGraph());
    failedId = await failedRun(workflowId);
  });

  it('a run still running is a 409', async () => {
    fake.script('m1', { delayMs: OUTLASTING_TURN_MS });
    const id = await startRun(stack, owner, workflowId, { topic: 'slow' });
    await fake.waitForCalls(1);
    const res = await retry(id, { fromNodeId: 'agent1' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
    expect((await stack.request('POST', `/api/v1/executions/${id}/cancel`, { token: owner.token })).status).toBe(202);
  });

  it('a node the run does not have is a 422; a run that did not fail, without a node, is a 409', async () => {
    const unknown = await retry(failedId, { fromNodeId: 'nope' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toMatchObject({ code: 'UNKNOWN_NODE', details: { nodeIds: ['nope'] } });
    const succeeded = await waitForExecution(stack, owner, await startRun(stack, owner, workflowId, { topic: 'fine' }));
    expect(succeeded.status).toBe('succeeded');
    const nothing = await retry(succeeded.id);
    expect(nothing.status).toBe(409);
    expect(nothing.body.error.code).toBe('NOTHING_TO_RETRY');
    // Named, a node of a run that succeeded is retried like any other.
    const again = await waitForExecution(stack, owner, (await retry(succeeded.id, { fromNodeId: 'agent3' })).body.id);
    expect(again.status).toBe('succeeded');
  });

  it("another tenant's run is a 404, and a viewer may not retry (403)", async () => {
    const other = await registerTenant(stack);
    expect((await retry(failedId, {}, other)).status).toBe(404);
    const viewer = await addMember(stack, owner, 'viewer');
    const res = await retry(failedId, {}, viewer);
    expect(res.status).toBe(403);
    const listed = await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}&trigger=retry`, { token: owner.token });
    expect(listed.body.items.filter((e: any) => e.retryOf === failedId)).toEqual([]);
  });
});
