// Map nodes (issue 12 item 2, DESIGN §8 `map`): one child run per item with bounded concurrency, results in item
// order, a failing item under `skip` and under `fail`, progress in the run's events, a long list whose parent
// and coordinator histories stay bounded (continue-as-new), item runs another tenant cannot read, and a cancel
// that reaches the item runs. Real Temporal, Postgres and Redis; the item workflows use the echo provider.
import { temporalWorkflowId } from '../core/events';
import { MAP_ITEMS_PER_RUN, mapRunWorkflowId } from '../core/map-run';
import { tenantSchemaName } from '../db/tenant-scope';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

jest.setTimeout(300_000);

let stack: TestStack;
let owner: TestSession;

beforeAll(async () => {
  stack = await startTestStack();
  owner = await registerTenant(stack);
});

afterAll(async () => {
  await stack?.close();
});

const at = (x: number) => ({ x, y: 0 });

/** An item run: takes `delayMs` in an echo agent, then doubles `n` (item 7 fails when `failSeven`). */
function itemGraph(delayMs: number, failSeven = false) {
  const calc = failSeven ? 'inputs.n = 7 ? $error("item seven fails") : inputs.n * 2' : 'inputs.n * 2';
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: at(0), data: { inputs: { n: { type: 'number', required: true } } } },
      { id: 'slow', type: 'agent', position: at(200), data: { provider: 'echo', model: 'echo', prompt: 'item {{inputs.n}}', delayMs } },
      { id: 'calc', type: 'transform', position: at(400), data: { expression: calc } },
      { id: 'out', type: 'output', position: at(600), data: { value: '{{nodes.calc}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'slow' },
      { id: 'e2', source: 'slow', target: 'calc' },
      { id: 'e3', source: 'calc', target: 'out' },
    ],
  };
}

/** The cheapest item run: its input straight to its output. */
const cheapItemGraph = {
  nodes: [
    { id: 'start', type: 'trigger', position: at(0), data: { inputs: { n: { type: 'number', required: true } } } },
    { id: 'out', type: 'output', position: at(200), data: { value: '{{inputs.n}}' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'out' }],
};

function mapGraph(itemWorkflowId: string, count: number, map: Record<string, unknown> = {}) {
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: at(0), data: {} },
      { id: 'm', type: 'map', position: at(200), data: { items: `[0..${count - 1}]`, workflowId: itemWorkflowId, itemInput: '{"n": item}', ...map } },
      { id: 'out', type: 'output', position: at(400), data: { value: '{{nodes.m.failures.length}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'm' },
      { id: 'e2', source: 'm', target: 'out' },
    ],
  };
}

async function runMap(graph: unknown, timeoutMs = 120_000) {
  const workflowId = await createWorkflow(stack, owner, graph);
  const startedAt = Date.now();
  const executionId = await startRun(stack, owner, workflowId);
  const done = await waitForExecution(stack, owner, executionId, undefined, timeoutMs);
  return { executionId, done, ms: Date.now() - startedAt };
}

const nodeOf = (done: any, id: string) => done.nodes.find((n: any) => n.nodeId === id);

async function itemRuns(parentExecutionId: string): Promise<Array<{ id: string; status: string; startedAt: Date | null; finishedAt: Date | null }>> {
  const schema = tenantSchemaName(owner.tenantId);
  return stack.db.dataSource.query(
    `select id, status, started_at as "startedAt", finished_at as "finishedAt" from ${schema}.executions where parent_execution_id = $1`,
    [parentExecutionId],
  );
}

/** The most runs whose [started, finished) intervals overlap at one instant. */
function maxOverlap(runs: Array<{ startedAt: Date | null; finishedAt: Date | null }>): number {
  const marks = runs.flatMap((r) => [
    { t: new Date(r.startedAt!).getTime(), d: 1 },
    { t: new Date(r.finishedAt!).getTime(), d: -1 },
  ]);
  marks.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const m of marks) max = Math.max(max, (now += m.d));
  return max;
}

/** Every run of a workflow id (a continued-as-new coordinator has one per segment) with its history length. */
async function historyLengths(workflowId: string): Promise<number[]> {
  const lengths: number[] = [];
  for await (const info of stack.temporal.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    const history = await stack.temporal.workflow.getHandle(workflowId, info.runId).fetchHistory();
    lengths.push(history.events?.length ?? 0);
  }
  return lengths;
}

async function events(executionId: string): Promise<any[]> {
  const res = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
  expect(res.status).toBe(200);
  return res.body.events;
}

describe('a map node', () => {
  it('runs 50 items at concurrency 5 — really in parallel, never more than 5 at once — with the results in item order and progress in the events', async () => {
    const itemWorkflowId = await createWorkflow(stack, owner, itemGraph(300));
    const { executionId, done } = await runMap(mapGraph(itemWorkflowId, 50, { concurrency: 5 }));

    expect(done.status).toBe('succeeded');
    const m = nodeOf(done, 'm');
    expect(m.status).toBe('succeeded');
    expect(m.output.failures).toEqual([]);
    expect(m.output.results).toEqual(Array.from({ length: 50 }, (_, i) => ({ out: String(i * 2) })));

    const runs = await itemRuns(executionId);
    expect(runs).toHaveLength(50);
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    const overlap = maxOverlap(runs);
    expect(overlap).toBeLessThanOrEqual(5);
    expect(overlap).toBeGreaterThan(1);
    console.log(`map of 50 items at concurrency 5: at most ${overlap} item runs overlapped`);

    const progress = (await events(executionId)).filter((e) => e.type === 'map.progress');
    expect(progress[0]?.data).toMatchObject({ done: 0, failed: 0, total: 50 });
    expect(progress[progress.length - 1]?.data).toMatchObject({ done: 50, failed: 0, total: 50 });
  });

  it('under onItemFailure skip lists the failing item in failures, leaves its slot null and succeeds', async () => {
    const itemWorkflowId = await createWorkflow(stack, owner, itemGraph(0, true));
    const { done } = await runMap(mapGraph(itemWorkflowId, 12, { concurrency: 4, onItemFailure: 'skip' }));

    expect(done.status).toBe('succeeded');
    const m = nodeOf(done, 'm');
    expect(m.output.failures).toEqual([{ index: 7, error: { code: 'SUBFLOW_FAILED', message: expect.stringContaining('item seven fails') } }]);
    expect(m.output.results[7]).toBeNull();
    expect(m.output.results[6]).toEqual({ out: '12' });
    expect(m.output.results).toHaveLength(12);
    expect(done.outputs).toEqual({ out: '1' });
  });

  it('under onItemFailure fail fails the node and the run with the failing item named', async () => {
    const itemWorkflowId = await createWorkflow(stack, owner, itemGraph(0, true));
    const { done } = await runMap(mapGraph(itemWorkflowId, 12, { concurrency: 4, onItemFailure: 'fail' }));

    expect(done.status).toBe('failed');
    expect(nodeOf(done, 'm').status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'MAP_ITEM_FAILED', nodeId: 'm', message: expect.stringContaining('item 7 failed') });
  });

  it('with onError continue hands a failed map on as {error} (the same wiring as an agent)', async () => {
    const itemWorkflowId = await createWorkflow(stack, owner, itemGraph(0, true));
    const { done } = await runMap(mapGraph(itemWorkflowId, 9, { onItemFailure: 'fail', onError: 'continue' }));

    expect(done.status).toBe('succeeded');
    expect(nodeOf(done, 'm').output).toEqual({ error: { code: 'MAP_ITEM_FAILED', message: expect.stringContaining('item 7 failed') } });
  });

  it('fails clearly when the items expression does not give an array', async () => {
    const itemWorkflowId = await createWorkflow(stack, owner, cheapItemGraph);
    const { done } = await runMap(mapGraph(itemWorkflowId, 1, { items: '{"not": "a list"}' }));

    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'MAP_ITEMS_NOT_ARRAY', nodeId: 'm', message: expect.stringContaining('must give an array') });
  });

  // Enough items for two continues-as-new and a short last segment; the 10,000-item run is bench/map-items.ts.
  const MAP_TEST_ITEMS = 450;
  it(`runs ${MAP_TEST_ITEMS} items through a coordinator that continues as new every ${MAP_ITEMS_PER_RUN} items: every history stays bounded`, async () => {
    const itemWorkflowId = await createWorkflow(stack, owner, cheapItemGraph);
    const { executionId, done, ms } = await runMap(mapGraph(itemWorkflowId, MAP_TEST_ITEMS, { concurrency: 50 }), 280_000);

    expect(done.status).toBe('succeeded');
    const m = nodeOf(done, 'm');
    expect(m.output.results).toHaveLength(MAP_TEST_ITEMS);
    expect(m.output.results[MAP_TEST_ITEMS - 1]).toEqual({ out: String(MAP_TEST_ITEMS - 1) });

    const parentId = temporalWorkflowId(owner.tenantId, executionId);
    const parent = await historyLengths(parentId);
    const coordinator = await historyLengths(mapRunWorkflowId(parentId, 'm'));
    // The parent's history does not grow with the list: a map is a handful of events, whatever its length.
    expect(parent).toHaveLength(1);
    expect(parent[0]).toBeLessThan(100);
    // One coordinator run per segment, each about a dozen events per item of its segment (core/map-run.ts).
    expect(coordinator).toHaveLength(Math.ceil(MAP_TEST_ITEMS / MAP_ITEMS_PER_RUN));
    for (const length of coordinator) expect(length).toBeLessThan(MAP_ITEMS_PER_RUN * 15);
    console.log(`map of ${MAP_TEST_ITEMS} cheap items at concurrency 50: ${ms} ms; parent history ${parent[0]} events; coordinator runs ${coordinator.join(', ')} events`);
  });

  it('keeps its item runs in its tenant: another tenant gets 404 for them', async () => {
    const itemWorkflowId = await createWorkflow(stack, owner, cheapItemGraph);
    const { executionId, done } = await runMap(mapGraph(itemWorkflowId, 3));
    expect(done.status).toBe('succeeded');
    const [item] = await itemRuns(executionId);

    const mine = await stack.request('GET', `/api/v1/executions/${item!.id}`, { token: owner.token });
    expect(mine.status).toBe(200);
    expect(mine.body.parentExecutionId).toBe(executionId);
    const other = await registerTenant(stack);
    const theirs = await stack.request('GET', `/api/v1/executions/${item!.id}`, { token: other.token });
    expect(theirs.status).toBe(404);
  });

  it('is cancelled with its run: the coordinator and the item runs in flight end cancelled', async () => {
    const itemWorkflowId = await createWorkflow(stack, owner, itemGraph(60_000));
    const workflowId = await createWorkflow(stack, owner, mapGraph(itemWorkflowId, 20, { concurrency: 3 }));
    const executionId = await startRun(stack, owner, workflowId);
    await waitForExecution(stack, owner, executionId, () => true);
    const deadline = Date.now() + 60_000;
    while ((await itemRuns(executionId)).filter((r) => r.status === 'running').length < 3) {
      if (Date.now() > deadline) throw new Error('the item runs did not start');
      await new Promise((r) => setTimeout(r, 200));
    }

    const cancel = await stack.request('POST', `/api/v1/executions/${executionId}/cancel`, { token: owner.token });
    expect([200, 202]).toContain(cancel.status);
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('cancelled');

    const coordinator = await stack.temporal.workflow.getHandle(mapRunWorkflowId(temporalWorkflowId(owner.tenantId, executionId), 'm')).describe();
    expect(coordinator.status.name).toBe('CANCELLED');
    const runs = await itemRuns(executionId);
    expect(runs).toHaveLength(3);
    for (const run of runs) expect((await waitForExecution(stack, owner, run.id)).status).toBe('cancelled');
  });
});
