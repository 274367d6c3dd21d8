// A run survives the death of its worker: the worker process is killed with SIGKILL in the middle of an
// agent turn, a new worker process finishes the run, and turns completed before the kill are not paid twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { killAllTessera, spawnTessera, stackEnv, writeWorkflowBundle, type TesseraProcess } from './support/processes';
import { waitUntil } from './support/wait-until';
import { OUTLASTING_TURN_MS } from './fixtures/graphs';

jest.setTimeout(180_000);


let stack: TestStack;
let fake: FakeLlmServer;
let owner: TestSession;
let bundleDir: string;
let bundlePath: string;

function spawnWorker(): TesseraProcess {
  return spawnTessera('worker', {
    ...stackEnv(stack, bundlePath),
    OPENAI_API_KEY: 'test-openai-key',
    OPENAI_BASE_URL: fake.openaiBaseURL,
  });
}

beforeAll(async () => {
  fake = await startFakeLlmServer();
  stack = await startTestStack({ worker: false });
  owner = await registerTenant(stack);
  bundleDir = mkdtempSync(path.join(tmpdir(), 'tessera-bundle-'));
  bundlePath = writeWorkflowBundle(stack.workflowBundle, path.join(bundleDir, 'workflow-bundle.js'));
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  await fake?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

it('finishes a run on a new worker after the first is SIGKILLed mid-turn, without repeating completed turns', async () => {
  const graph = {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
      { id: 'research', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'openai', model: 'durable-research', prompt: 'Research {{inputs.topic}}' } },
      { id: 'write', type: 'agent', position: { x: 400, y: 0 }, data: { provider: 'openai', model: 'durable-write', prompt: 'Write from: {{nodes.research.text}}' } },
      { id: 'out', type: 'output', position: { x: 600, y: 0 }, data: { value: '{{nodes.write.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'research' },
      { id: 'e2', source: 'research', target: 'write' },
      { id: 'e3', source: 'write', target: 'out' },
    ],
  };
  const workflowId = await createWorkflow(stack, owner, graph);
  // The first attempt of the second turn gets no answer, so the worker dies in the middle of it however long
  // the machine takes to get there; the retry on the new worker is answered at once.
  fake.script('durable-write', { delayMs: OUTLASTING_TURN_MS }, {});

  const first = spawnWorker();
  await first.ready;
  const executionId = await startRun(stack, owner, workflowId, { topic: 'lighthouses' });
  await waitForExecution(stack, owner, executionId, (e) => e.nodes.some((n: any) => n.nodeId === 'write' && n.status === 'running'), 60_000);
  await waitUntil('the first worker is waiting on the second turn', () => fake.callsFor('durable-write').length === 1);
  await first.kill('SIGKILL');

  const midway = await stack.request('GET', `/api/v1/executions/${executionId}`, { token: owner.token });
  expect(midway.body.status).toBe('running');
  expect(fake.callsFor('durable-research')).toHaveLength(1);

  const second = spawnWorker();
  await second.ready;
  const done = await waitForExecution(stack, owner, executionId, undefined, 90_000);

  expect(done.status).toBe('succeeded');
  expect(done.outputs).toEqual({ out: 'fake:durable-write:Write from: fake:durable-research:Research lighthouses' });
  // The completed turn is in the workflow's history: the new worker replays it instead of calling the model again.
  expect(fake.callsFor('durable-research')).toHaveLength(1);
  const write = done.nodes.find((n: any) => n.nodeId === 'write');
  expect(write.attempts).toBeGreaterThanOrEqual(2);
  expect(fake.callsFor('durable-write').map((c) => c.aborted)).toEqual([true, false]);
  const events = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
  const started = events.body.events.filter((e: any) => e.type === 'node.started' && e.nodeId === 'research');
  expect(started).toHaveLength(1);
  expect(events.body.events.map((e: any) => e.seq)).toEqual(events.body.events.map((_: unknown, i: number) => i + 1));
  await second.kill('SIGTERM');
});
