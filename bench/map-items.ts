// How long a map node over N cheap items (an item workflow that hands its input to its output) takes, and how
// long the parent's and the coordinator's Temporal histories get (core/map-run.ts: one coordinator run per
// MAP_ITEMS_PER_RUN items). Self-contained: it starts the tests' Temporal dev server and an in-process stack
// (test/support, real Postgres and Redis). Usage: npx tsx bench/map-items.ts [items=10000] [concurrency=100]
import globalSetup from '../test/global-setup';
import globalTeardown from '../test/global-teardown';
import { temporalWorkflowId } from '../core/events';
import { MAP_ITEMS_PER_RUN, mapRunWorkflowId } from '../core/map-run';
import { createWorkflow, registerTenant, startRun, waitForExecution } from '../test/support/session';
import { startTestStack, type TestStack } from '../test/support/stack';

const ITEMS = Number(process.argv[2] ?? 10_000);
const CONCURRENCY = Number(process.argv[3] ?? 100);
const at = (x: number) => ({ x, y: 0 });

async function historyLengths(stack: TestStack, workflowId: string): Promise<number[]> {
  const lengths: number[] = [];
  for await (const info of stack.temporal.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    const history = await stack.temporal.workflow.getHandle(workflowId, info.runId).fetchHistory();
    lengths.push(history.events?.length ?? 0);
  }
  return lengths;
}

async function main(): Promise<void> {
  await globalSetup();
  const stack = await startTestStack();
  try {
    const owner = await registerTenant(stack);
    const item = await createWorkflow(stack, owner, {
      nodes: [
        { id: 'start', type: 'trigger', position: at(0), data: { inputs: { n: { type: 'number', required: true } } } },
        { id: 'out', type: 'output', position: at(200), data: { value: '{{inputs.n}}' } },
      ],
      edges: [{ id: 'e1', source: 'start', target: 'out' }],
    });
    const parentWorkflow = await createWorkflow(stack, owner, {
      nodes: [
        { id: 'start', type: 'trigger', position: at(0), data: {} },
        { id: 'm', type: 'map', position: at(200), data: { items: `[0..${ITEMS - 1}]`, workflowId: item, itemInput: '{"n": item}', concurrency: CONCURRENCY } },
        { id: 'out', type: 'output', position: at(400), data: { value: '{{nodes.m.failures.length}}' } },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'm' },
        { id: 'e2', source: 'm', target: 'out' },
      ],
    });
    const t0 = performance.now();
    const executionId = await startRun(stack, owner, parentWorkflow);
    const done = await waitForExecution(stack, owner, executionId, undefined, 3 * 60 * 60 * 1000);
    const seconds = (performance.now() - t0) / 1000;
    const m = done.nodes.find((n: { nodeId: string }) => n.nodeId === 'm');
    if (done.status !== 'succeeded' || m?.output?.results?.length !== ITEMS) throw new Error(`the map did not succeed: ${done.status} ${JSON.stringify(done.error)}`);
    const parentId = temporalWorkflowId(owner.tenantId, executionId);
    const parent = await historyLengths(stack, parentId);
    const coordinator = await historyLengths(stack, mapRunWorkflowId(parentId, 'm'));
    console.log(`map of ${ITEMS} items at concurrency ${CONCURRENCY}: ${seconds.toFixed(1)} s (${(ITEMS / seconds).toFixed(1)} items/s)`);
    console.log(`parent history: ${parent.join(', ')} events`);
    console.log(`coordinator: ${coordinator.length} runs (one per ${MAP_ITEMS_PER_RUN} items), ${Math.min(...coordinator)}–${Math.max(...coordinator)} events each`);
  } finally {
    await stack.close();
    await globalTeardown();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
