// The worker process's GET /metrics (WORKER_METRICS_PORT): after a real run with an echo agent it reports the
// agent turn's activity duration, the model call and its tokens by provider and model, and the run's end, beside
// Temporal Core's own metrics, and none of its labels carries a tenant, an execution or a workflow id.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { killAllTessera, spawnTessera, stackEnv, workerMetricsUrl, writeWorkflowBundle, type TesseraProcess } from './support/processes';
import { scrape, total } from './support/prometheus-text';

jest.setTimeout(180_000);

let stack: TestStack;
let owner: TestSession;
let bundleDir: string;
let workers: TesseraProcess[];

const echoGraph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
    { id: 'draft', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'echo', model: 'echo-metrics', system: 'You are terse.', prompt: 'Write about {{inputs.topic}}' } },
    { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.draft.text}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'draft' },
    { id: 'e2', source: 'draft', target: 'out' },
  ],
};

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  owner = await registerTenant(stack);
  bundleDir = mkdtempSync(path.join(tmpdir(), 'tessera-bundle-'));
  const bundlePath = writeWorkflowBundle(stack.workflowBundle, path.join(bundleDir, 'workflow-bundle.js'));
  // Two workers on one machine: each takes a port of its own (WORKER_METRICS_PORT=0 in stackEnv).
  workers = [spawnTessera('worker', stackEnv(stack, bundlePath)), spawnTessera('worker', stackEnv(stack, bundlePath))];
  await Promise.all(workers.map((w) => w.ready));
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

it("reports an agent turn's duration, its model call's tokens and the run's end, with Temporal Core's metrics", async () => {
  const urls = workers.map(workerMetricsUrl);
  expect(new Set(urls).size).toBe(2);
  const workflowId = await createWorkflow(stack, owner, echoGraph);
  const executionId = await startRun(stack, owner, workflowId, { topic: 'lighthouses' });
  const done = await waitForExecution(stack, owner, executionId);
  expect(done.status).toBe('succeeded');
  const usage = done.nodes.find((n: { nodeId: string }) => n.nodeId === 'draft').usage as { inputTokens: number; outputTokens: number };

  // Whichever worker ran the turn and recorded the end: the two scrapes together hold one of each.
  const scrapes = await Promise.all(urls.map(scrape));
  const sum = (name: string, labels: Record<string, string>) => scrapes.reduce((s, f) => s + total(f, name, labels), 0);
  expect(sum('tessera_worker_activity_duration_seconds_count', { activity_type: 'runAgentTurn', outcome: 'succeeded' })).toBe(1);
  expect(sum('tessera_worker_activity_duration_seconds_sum', { activity_type: 'runAgentTurn', outcome: 'succeeded' })).toBeGreaterThan(0);
  expect(sum('tessera_llm_calls_total', { provider: 'echo', model: 'echo-metrics', outcome: 'succeeded' })).toBe(1);
  expect(sum('tessera_llm_tokens_total', { provider: 'echo', model: 'echo-metrics', direction: 'input' })).toBe(usage.inputTokens);
  expect(sum('tessera_llm_tokens_total', { provider: 'echo', model: 'echo-metrics', direction: 'output' })).toBe(usage.outputTokens);
  expect(sum('tessera_llm_call_duration_seconds_count', { provider: 'echo', model: 'echo-metrics', outcome: 'succeeded' })).toBe(1);
  expect(sum('tessera_worker_runs_ended_total', { status: 'succeeded' })).toBe(1);
  for (const s of scrapes) {
    // Temporal Core's metrics come through the same scrape.
    expect(total(s, 'tessera_worker_temporal_metrics_up')).toBe(1);
    expect(total(s, 'temporal_worker_start')).toBeGreaterThan(0);
  }
  expect(scrapes.reduce((n, s) => n + total(s, 'temporal_activity_execution_latency_count', { activity_type: 'runAgentTurn' }), 0)).toBe(1);
  const text = (await Promise.all(urls.map(async (u) => (await fetch(u)).text()))).join('\n');
  for (const id of [owner.tenantId, executionId, workflowId]) expect(text).not.toContain(id);
});

it('answers 404 with an error body off /metrics', async () => {
  const res = await fetch(workerMetricsUrl(workers[0]!).replace('/metrics', '/nothing'));
  expect(res.status).toBe(404);
  expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
});
