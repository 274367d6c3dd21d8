// Error handling on fallible nodes (issue 12 item 3, DESIGN §8 `onError`): an agent whose provider fails takes
// its `error` branch to a recovery agent (branch), hands the error on its normal edges (continue), or fails the
// run as it always did (fail, the default). Real Temporal, Postgres and Redis; the provider is the fake one.
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

let fake: FakeLlmServer;
let stack: TestStack;
let owner: TestSession;

beforeAll(async () => {
  fake = await startFakeLlmServer();
  stack = await startTestStack({
    providers: { openai: { apiKey: 'test-openai-key', baseURL: fake.openaiBaseURL }, anthropic: { apiKey: 'test-anthropic-key', baseURL: fake.anthropicBaseURL } },
  });
  owner = await registerTenant(stack);
});

afterAll(async () => {
  await stack?.close();
  await fake?.close();
});

beforeEach(() => fake.reset());

const BAD_REQUEST = { status: 400, message: 'the prompt is malformed' };

/**
 * start → draft (the agent that fails) → out, and draft → fix → saved: from draft's `error` handle under
 * branch, from its normal handle otherwise. fix's prompt quotes the error it got.
 */
function recoveryGraph(model: string, draft: Record<string, unknown>) {
  const branch = draft.onError === 'branch';
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
      { id: 'draft', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'openai', model, prompt: 'Write it', ...draft } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.draft.text}}|{{nodes.draft.error.message}}' } },
      { id: 'fix', type: 'agent', position: { x: 400, y: 200 }, data: { provider: 'openai', model: `${model}-fix`, prompt: 'Recover from {{nodes.draft.error.code}}: {{nodes.draft.error.message}}' } },
      { id: 'saved', type: 'output', position: { x: 600, y: 200 }, data: { value: '{{nodes.fix.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'draft' },
      { id: 'e2', source: 'draft', target: 'out' },
      { id: 'e3', source: 'draft', target: 'fix', ...(branch ? { sourceHandle: 'error' } : {}) },
      { id: 'e4', source: 'fix', target: 'saved' },
    ],
  };
}

async function run(graph: unknown): Promise<{ executionId: string; done: any; events: any[] }> {
  const workflowId = await createWorkflow(stack, owner, graph);
  const executionId = await startRun(stack, owner, workflowId);
  const done = await waitForExecution(stack, owner, executionId);
  const events = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
  expect(events.status).toBe(200);
  return { executionId, done, events: events.body.events };
}

const nodeOf = (done: any, id: string) => done.nodes.find((n: any) => n.nodeId === id);

describe('an agent whose provider fails non-retryably', () => {
  it('with onError branch takes the error edge to a recovery agent that sees the error; the normal edge is skipped and the run succeeds', async () => {
    fake.script('branch-draft', BAD_REQUEST);
    const { done, events } = await run(recoveryGraph('branch-draft', { onError: 'branch' }));

    expect(done.status).toBe('succeeded');
    const draft = nodeOf(done, 'draft');
    expect(draft.status).toBe('succeeded');
    expect(draft.attempts).toBe(1);
    expect(draft.output).toEqual({ error: { code: expect.any(String), message: expect.stringContaining('the prompt is malformed') } });
    expect(nodeOf(done, 'out').status).toBe('skipped');
    expect(nodeOf(done, 'fix').status).toBe('succeeded');

    // The recovery agent's prompt was rendered over the error: what the provider received.
    expect(fake.callsFor('branch-draft')).toHaveLength(1);
    const [fixCall] = fake.callsFor('branch-draft-fix');
    expect(fixCall?.prompt).toBe(`Recover from ${draft.output.error.code}: ${draft.output.error.message}`);
    expect(done.outputs).toEqual({ saved: `fake:branch-draft-fix:${fixCall?.prompt}` });

    // The run view's events: the draft succeeded on its error handle, the failure marked handled, never node.failed.
    const draftEvents = events.filter((e) => e.nodeId === 'draft').map((e) => e.type);
    expect(draftEvents).toEqual(['node.started', 'node.succeeded']);
    expect(events.find((e) => e.type === 'node.succeeded' && e.nodeId === 'draft').data).toMatchObject({
      status: 'succeeded',
      handle: 'error',
      handled: true,
      code: draft.output.error.code,
      error: draft.output.error.message,
    });
  });

  it('with onError continue hands the error output to its normal edges', async () => {
    fake.script('continue-draft', BAD_REQUEST);
    const { done } = await run(recoveryGraph('continue-draft', { onError: 'continue' }));

    expect(done.status).toBe('succeeded');
    const draft = nodeOf(done, 'draft');
    expect(draft).toMatchObject({ status: 'succeeded', output: { error: { message: expect.stringContaining('the prompt is malformed') } } });
    expect(done.outputs.out).toBe(`|${draft.output.error.message}`);
    expect(nodeOf(done, 'fix').status).toBe('succeeded');
  });

  it('with onError fail (the default) fails the run as before', async () => {
    fake.script('fail-draft', BAD_REQUEST);
    const { done, events } = await run(recoveryGraph('fail-draft', {}));

    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ nodeId: 'draft', message: expect.stringContaining('the prompt is malformed') });
    expect(nodeOf(done, 'draft').status).toBe('failed');
    expect(fake.callsFor('fail-draft-fix')).toHaveLength(0);
    expect(events.filter((e) => e.nodeId === 'draft').map((e) => e.type)).toEqual(['node.started', 'node.failed']);
  });
});

it('a retryable failure is retried first (attempts counted) and only its last attempt is handled', async () => {
  fake.script('retry-draft', { status: 503 }, { status: 503 }, { status: 503 });
  const { done, events } = await run(recoveryGraph('retry-draft', { onError: 'branch', retry: { maximumAttempts: 3, initialIntervalSeconds: 0.1 } }));

  expect(done.status).toBe('succeeded');
  expect(fake.callsFor('retry-draft')).toHaveLength(3);
  expect(nodeOf(done, 'draft')).toMatchObject({ status: 'succeeded', attempts: 3 });
  expect(events.filter((e) => e.nodeId === 'draft').map((e) => e.type)).toEqual(['node.started', 'node.retrying', 'node.retrying', 'node.succeeded']);
  expect(events.find((e) => e.type === 'node.succeeded' && e.nodeId === 'draft').data).toMatchObject({ attempt: 3, handle: 'error', handled: true });
  expect(nodeOf(done, 'fix').status).toBe('succeeded');
});

it('a handled failure does not stop a sibling still running', async () => {
  // The sibling answers late, so the draft's failure is handled while it is in flight.
  fake.script('sibling-draft', BAD_REQUEST);
  fake.script('sibling-slow', { delayMs: 1500, text: 'slow and done' });
  const graph = {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
      { id: 'draft', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'openai', model: 'sibling-draft', prompt: 'Write it', onError: 'continue' } },
      { id: 'slow', type: 'agent', position: { x: 200, y: 200 }, data: { provider: 'openai', model: 'sibling-slow', prompt: 'Take your time' } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.slow.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'draft' },
      { id: 'e2', source: 'start', target: 'slow' },
      { id: 'e3', source: 'draft', target: 'out' },
      { id: 'e4', source: 'slow', target: 'out' },
    ],
  };
  const { done } = await run(graph);

  expect(done.status).toBe('succeeded');
  expect(done.outputs).toEqual({ out: 'slow and done' });
  expect(fake.callsFor('sibling-slow')).toHaveLength(1);
  expect(fake.callsFor('sibling-slow')[0]!.aborted).toBe(false);
  // The draft's failure came while the sibling was still being answered.
  expect(Date.parse(nodeOf(done, 'draft').finishedAt)).toBeLessThan(Date.parse(nodeOf(done, 'slow').finishedAt));
});

it('a subflow whose child run fails takes its error branch; the parent run succeeds', async () => {
  fake.script('child-draft', BAD_REQUEST);
  const child = await createWorkflow(stack, owner, {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
      { id: 'draft', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'openai', model: 'child-draft', prompt: 'Write it' } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.draft.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'draft' },
      { id: 'e2', source: 'draft', target: 'out' },
    ],
  });
  const { done, events } = await run({
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
      { id: 'sub', type: 'subflow', position: { x: 200, y: 0 }, data: { workflowId: child, inputs: {}, onError: 'branch' } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: 'child said {{nodes.sub.out}}' } },
      { id: 'saved', type: 'output', position: { x: 400, y: 200 }, data: { value: 'recovered from {{nodes.sub.error.message}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'sub' },
      { id: 'e2', source: 'sub', target: 'out' },
      { id: 'e3', source: 'sub', target: 'saved', sourceHandle: 'error' },
    ],
  });

  expect(done.status).toBe('succeeded');
  const sub = nodeOf(done, 'sub');
  expect(sub).toMatchObject({ status: 'succeeded', output: { error: { code: expect.any(String), message: expect.any(String) } } });
  expect(nodeOf(done, 'out').status).toBe('skipped');
  expect(done.outputs).toEqual({ saved: `recovered from ${sub.output.error.message}` });
  expect(events.find((e) => e.type === 'node.succeeded' && e.nodeId === 'sub').data).toMatchObject({ handle: 'error', handled: true });
  expect(fake.callsFor('child-draft')).toHaveLength(1);
});

it('a conversation whose turn fails for good continues with the error on its normal edge', async () => {
  fake.script('conv-alice', BAD_REQUEST);
  const participants = [
    { name: 'alice', provider: 'openai', model: 'conv-alice' },
    { name: 'bob', provider: 'openai', model: 'conv-bob' },
  ];
  const { done, events } = await run({
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
      { id: 'talk', type: 'conversation', position: { x: 200, y: 0 }, data: { participants, topic: 'Plan the launch', maxRounds: 2, onError: 'continue' } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: 'talk failed: {{nodes.talk.error.message}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'talk' },
      { id: 'e2', source: 'talk', target: 'out' },
    ],
  });

  expect(done.status).toBe('succeeded');
  const talk = nodeOf(done, 'talk');
  expect(talk).toMatchObject({ status: 'succeeded', output: { error: { message: expect.stringContaining('the prompt is malformed') } } });
  expect(done.outputs).toEqual({ out: `talk failed: ${talk.output.error.message}` });
  expect(events.find((e) => e.type === 'node.succeeded' && e.nodeId === 'talk').data).toMatchObject({ handle: null, handled: true });
  // The first speaker's turn failed at once (a 400 is not retried); bob never spoke.
  expect(fake.callsFor('conv-alice')).toHaveLength(1);
  expect(fake.callsFor('conv-bob')).toHaveLength(0);
});
