// Child executions (DESIGN.md §8 `subflow`, the `workflow` tool), end to end: real Temporal, a worker process,
// Postgres. A child is an ordinary execution row of the child workflow (parentExecutionId, trigger subflow) run
// as a Temporal child workflow: its approvals reach the inbox, a cancelled parent cancels it, a workflow that
// would include itself is refused with SUBFLOW_CYCLE, another tenant's workflow is not found, and a worker
// SIGKILLed while the child runs leaves exactly one child row.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { killAllTessera, spawnTessera, stackEnv, writeWorkflowBundle, type TesseraProcess } from './support/processes';
import { waitUntil } from './support/wait-until';
import { temporalWorkflowId } from '../core/events';

jest.setTimeout(240_000);

let stack: TestStack;
let fake: FakeLlmServer;
let owner: TestSession;
let bundleDir: string;
let bundlePath: string;
let worker: TesseraProcess;

function spawnWorker(env: Record<string, string> = {}): TesseraProcess {
  return spawnTessera('worker', { ...stackEnv(stack, bundlePath), OPENAI_API_KEY: 'test-openai-key', OPENAI_BASE_URL: fake.openaiBaseURL, ...env });
}

beforeAll(async () => {
  fake = await startFakeLlmServer();
  stack = await startTestStack({ worker: false });
  owner = await registerTenant(stack);
  bundleDir = mkdtempSync(path.join(tmpdir(), 'tessera-bundle-'));
  bundlePath = writeWorkflowBundle(stack.workflowBundle, path.join(bundleDir, 'workflow-bundle.js'));
  worker = spawnWorker();
  await worker.ready;
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  await fake?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

beforeEach(() => fake.reset());

const trigger = (inputs: Record<string, unknown> = {}) => ({ id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs } });
/** Nodes one after another; an approval goes on by its `approved` handle. */
const line = (...nodes: ({ id: string } & Record<string, unknown>)[]) => ({
  nodes,
  edges: nodes.slice(1).map((n, i) => ({ id: `e${i}`, source: nodes[i]!.id, target: n.id, ...(nodes[i]!.type === 'approval' ? { sourceHandle: 'approved' } : {}) })),
});
const output = (value: string) => ({ id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value } });
const subflow = (workflowId: string, inputs: Record<string, string> = {}) => ({ id: 'sub', type: 'subflow', position: { x: 200, y: 0 }, data: { workflowId, inputs } });

/** A workflow that answers `<word>-child`. */
const childGraph = () => line(trigger({ word: { type: 'string', required: true } }), output('{{inputs.word}}-child'));

async function childrenOf(session: TestSession, workflowId: string): Promise<any[]> {
  const res = await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}&limit=50`, { token: session.token });
  expect(res.status).toBe(200);
  return res.body.items;
}

async function events(session: TestSession, executionId: string): Promise<any[]> {
  return (await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: session.token })).body.events;
}

it("an agent's workflow tool runs the child with the model's arguments and the model reads its outputs", async () => {
  const child = await createWorkflow(stack, owner, childGraph(), 'Child');
  fake.script('wf-tool', { toolCalls: [{ name: 'lookup', arguments: { word: 'tea' } }] }, {});
  const agent = {
    id: 'a',
    type: 'agent',
    position: { x: 200, y: 0 },
    data: { provider: 'openai', model: 'wf-tool', prompt: 'go', tools: [{ type: 'workflow', name: 'lookup', description: 'Looks a word up', workflowId: child }] },
  };
  const parent = await createWorkflow(stack, owner, line(trigger(), agent, output('{{nodes.a.text}}')), 'Parent');
  const executionId = await startRun(stack, owner, parent);
  const done = await waitForExecution(stack, owner, executionId);

  expect(done.status).toBe('succeeded');
  const calls = fake.callsFor('wf-tool');
  expect(calls).toHaveLength(2);
  // The model is offered the child's trigger inputs as the tool's parameters.
  expect((calls[0]!.body.tools as any[])[0].function).toMatchObject({
    name: 'lookup',
    parameters: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'], additionalProperties: false },
  });
  expect(calls[1]!.toolResults).toEqual([{ id: expect.any(String), content: JSON.stringify({ out: 'tea-child' }), isError: false }]);
  const [row] = await childrenOf(owner, child);
  expect(row).toMatchObject({ status: 'succeeded', parentExecutionId: executionId, trigger: { type: 'subflow', parentExecutionId: executionId, nodeId: 'a' }, });
  expect((await stack.request('GET', `/api/v1/executions/${row.id}`, { token: owner.token })).body.outputs).toEqual({ out: 'tea-child' });
  const started = (await events(owner, executionId)).filter((e) => e.type === 'subflow.started');
  expect(started).toEqual([expect.objectContaining({ nodeId: 'a', data: expect.objectContaining({ childExecutionId: row.id, round: 1, callId: expect.any(String) }) })]);

  // The child is the caller tenant's: another tenant does not see it.
  const other = await registerTenant(stack);
  expect((await stack.request('GET', `/api/v1/executions/${row.id}`, { token: other.token })).status).toBe(404);
});

it("a workflow tool's failing child gives the model an error result and the run goes on", async () => {
  const broken = { id: 'broken', type: 'transform', position: { x: 200, y: 0 }, data: { expression: '$error("the child broke")' } };
  const child = await createWorkflow(stack, owner, line(trigger({ word: { type: 'string', required: true } }), broken, output('x')), 'Broken child');
  fake.script('wf-tool-bad', { toolCalls: [{ name: 'lookup', arguments: { word: 'tea' } }] }, {});
  const agent = { id: 'a', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'openai', model: 'wf-tool-bad', prompt: 'go', tools: [{ type: 'workflow', name: 'lookup', workflowId: child }] } };
  const parent = await createWorkflow(stack, owner, line(trigger(), agent, output('{{nodes.a.text}}')));
  const executionId = await startRun(stack, owner, parent);
  const done = await waitForExecution(stack, owner, executionId);

  expect(done.status).toBe('succeeded');
  const results = fake.callsFor('wf-tool-bad')[1]!.toolResults;
  expect(results).toHaveLength(1);
  expect(JSON.parse(results[0]!.content)).toEqual({ error: expect.stringMatching(/child run .* failed: .*the child broke/) });
  expect((await childrenOf(owner, child))[0]).toMatchObject({ status: 'failed', parentExecutionId: executionId });
});

it('a subflow two levels deep: the grandchild approval is in the inbox and, approved, all three finish', async () => {
  const grandchild = await createWorkflow(
    stack,
    owner,
    line(trigger({ word: { type: 'string' } }), { id: 'review', type: 'approval', position: { x: 200, y: 0 }, data: { title: 'Ship {{inputs.word}}?' } }, output('shipped {{inputs.word}}')),
    'Grandchild',
  );
  const child = await createWorkflow(stack, owner, line(trigger({ word: { type: 'string' } }), subflow(grandchild, { word: '{{inputs.word}}!' }), output('{{nodes.sub.out}}')), 'Child');
  const parent = await createWorkflow(stack, owner, line(trigger({ word: { type: 'string' } }), subflow(child, { word: '{{inputs.word}}' }), output('{{nodes.sub.out}}')), 'Parent');
  const executionId = await startRun(stack, owner, parent, { word: 'bees' });

  const item = await waitUntil('the grandchild approval is in the inbox', async () => {
    const inbox = await stack.request('GET', `/api/v1/approvals?status=pending&workflowId=${grandchild}`, { token: owner.token });
    return inbox.body.items?.[0];
  });
  expect(item).toMatchObject({ nodeId: 'review', title: 'Ship bees!?', workflowName: 'Grandchild', canDecide: true });
  const grandchildRun = (await stack.request('GET', `/api/v1/executions/${item.executionId}`, { token: owner.token })).body;
  const childRun = (await childrenOf(owner, child))[0];
  expect(childRun.parentExecutionId).toBe(executionId);
  expect(grandchildRun.parentExecutionId).toBe(childRun.id);

  const decided = await stack.request('POST', `/api/v1/executions/${item.executionId}/approvals/review`, { token: owner.token, body: { decision: 'approve' } });
  expect(decided.status).toBe(200);
  const done = await waitForExecution(stack, owner, executionId);
  expect(done.status).toBe('succeeded');
  expect(done.outputs).toEqual({ out: 'shipped bees!' });
  expect((await waitForExecution(stack, owner, childRun.id)).status).toBe('succeeded');
  expect((await waitForExecution(stack, owner, item.executionId)).status).toBe('succeeded');
  expect(done.nodes.find((n: any) => n.nodeId === 'sub')).toMatchObject({ status: 'succeeded', output: { out: 'shipped bees!' } });
});

it('cancelling the parent cancels the child and the grandchild (rows cancelled, Temporal closed)', async () => {
  const grandchild = await createWorkflow(stack, owner, line(trigger(), { id: 'review', type: 'approval', position: { x: 200, y: 0 }, data: { title: 'Wait' } }, output('x')), 'Waits');
  const child = await createWorkflow(stack, owner, line(trigger(), subflow(grandchild), output('{{nodes.sub.out}}')));
  const parent = await createWorkflow(stack, owner, line(trigger(), subflow(child), output('{{nodes.sub.out}}')));
  const executionId = await startRun(stack, owner, parent);
  const waiting = await waitUntil('the grandchild waits', async () => (await childrenOf(owner, grandchild)).find((e) => e.status === 'waiting'));
  const childRun = (await childrenOf(owner, child))[0];

  const cancelled = await stack.request('POST', `/api/v1/executions/${executionId}/cancel`, { token: owner.token });
  expect(cancelled.status).toBe(202);
  expect((await waitForExecution(stack, owner, executionId)).status).toBe('cancelled');
  for (const id of [childRun.id, waiting.id]) {
    expect((await waitForExecution(stack, owner, id)).status).toBe('cancelled');
    const described = await stack.temporal.workflow.getHandle(temporalWorkflowId(owner.tenantId, id)).describe();
    expect(described.status.name).toBe('CANCELLED');
  }
});

it('a workflow that includes itself through another (A → B → A) is refused with SUBFLOW_CYCLE', async () => {
  const a = await createWorkflow(stack, owner, line(trigger(), output('a')), 'A');
  const b = await createWorkflow(stack, owner, line(trigger(), subflow(a), output('{{nodes.sub.out}}')), 'B');
  // Running itself directly is told when saved.
  const itself = await stack.request('PUT', `/api/v1/workflows/${a}`, { token: owner.token, body: { graph: line(trigger(), subflow(a), output('{{nodes.sub.out}}')) } });
  expect(itself.body.validation).toMatchObject({ valid: false, errors: [expect.objectContaining({ nodeId: 'sub', message: expect.stringContaining('SUBFLOW_CYCLE') })] });
  const saved = await stack.request('PUT', `/api/v1/workflows/${a}`, { token: owner.token, body: { graph: line(trigger(), subflow(b), output('{{nodes.sub.out}}')) } });
  expect(saved.status).toBe(200);
  const executionId = await startRun(stack, owner, a);
  const done = await waitForExecution(stack, owner, executionId);

  expect(done.status).toBe('failed');
  const [bRun] = await childrenOf(owner, b);
  expect(bRun).toMatchObject({ status: 'failed', parentExecutionId: executionId, error: { code: 'SUBFLOW_CYCLE', nodeId: 'sub' } });
  expect(bRun.error.message).toContain(`${a} → ${b} → ${a}`);
  expect(done.error).toMatchObject({ code: 'SUBFLOW_FAILED', nodeId: 'sub' });
  expect(done.error.message).toContain(`${a} → ${b} → ${a}`);
  // Only the first run of A and the run of B exist: the cycle never started a second A.
  expect(await childrenOf(owner, a)).toHaveLength(1);
});

it("another tenant's workflow is not found for a subflow", async () => {
  const other = await registerTenant(stack);
  const theirs = await createWorkflow(stack, other, childGraph(), 'Theirs');
  const parent = await createWorkflow(stack, owner, line(trigger(), subflow(theirs, { word: 'x' }), output('{{nodes.sub.out}}')));
  const done = await waitForExecution(stack, owner, await startRun(stack, owner, parent));

  expect(done.status).toBe('failed');
  expect(done.error).toMatchObject({ code: 'SUBFLOW_NOT_FOUND', nodeId: 'sub', message: `workflow ${theirs} not found` });
  expect(await childrenOf(other, theirs)).toHaveLength(0);
});

it('a worker SIGKILLed while the child runs: exactly one child row, and the parent succeeds', async () => {
  const child = await createWorkflow(
    stack,
    owner,
    line(trigger(), { id: 'slow', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'echo', model: 'echo', prompt: 'slow child', delayMs: 3000 } }, output('{{nodes.slow.text}}')),
    'Slow child',
  );
  const parent = await createWorkflow(stack, owner, line(trigger(), subflow(child), output('{{nodes.sub.out}}')));
  const executionId = await startRun(stack, owner, parent);
  await waitUntil('the child runs', async () => (await childrenOf(owner, child)).find((e) => e.status === 'running'));

  await worker.kill('SIGKILL');
  worker = spawnWorker();
  await worker.ready;
  const done = await waitForExecution(stack, owner, executionId, undefined, 120_000);

  expect(done.status).toBe('succeeded');
  expect(done.outputs).toEqual({ out: expect.stringContaining('slow child') });
  const rows = await childrenOf(owner, child);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ status: 'succeeded', parentExecutionId: executionId });
});

it('a child deeper than SUBFLOW_MAX_DEPTH is refused with SUBFLOW_DEPTH', async () => {
  await worker.kill('SIGTERM');
  worker = spawnWorker({ SUBFLOW_MAX_DEPTH: '1' });
  await worker.ready;
  const leaf = await createWorkflow(stack, owner, line(trigger(), output('leaf')), 'Leaf');
  const middle = await createWorkflow(stack, owner, line(trigger(), subflow(leaf), output('{{nodes.sub.out}}')), 'Middle');
  const top = await createWorkflow(stack, owner, line(trigger(), subflow(middle), output('{{nodes.sub.out}}')), 'Top');
  const done = await waitForExecution(stack, owner, await startRun(stack, owner, top));

  expect(done.status).toBe('failed');
  const [middleRun] = await childrenOf(owner, middle);
  expect(middleRun.error).toMatchObject({ code: 'SUBFLOW_DEPTH', nodeId: 'sub' });
  expect(middleRun.error.message).toContain('SUBFLOW_MAX_DEPTH');
  expect(await childrenOf(owner, leaf)).toHaveLength(0);
});
