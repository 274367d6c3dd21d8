// Fair share inside the worker (issue 14 item 4): tenant A floods the worker with 110 parallel agent turns that
// the provider never answers; with TENANT_MAX_CONCURRENT_ACTIVITIES=50 only 50 of them reach the provider, the
// other 60 wait in the worker's gate, and tenant B's agent run goes through meanwhile, start to end. Without the
// gate (the SDK's 100 slots, no per-tenant cap) A's turns fill every slot and B's run never gets one.
// Cancelling A's run ends the 50 calls in flight and the 60 waiting turns, none of which ever reaches the provider.
// Real Temporal, the real openai SDK against the fake provider, the real worker.
import { temporalWorkflowId } from '../core/events';
import { tenantSchemaName } from '../db/tenant-scope';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { singleAgentGraph } from './fixtures/graphs';
import { createWorkflow, registerTenant, startRun, waitForExecution } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';

jest.setTimeout(180_000);

const FLOOD = 110;
const PER_TENANT = 50;
const FLOOD_MODEL = 'flood';
/** temporal.api.enums.v1.PendingActivityState: the worker has taken the task. */
const PENDING_ACTIVITY_STATE_STARTED = 2;
/** The worker's activity slots (WORKER_MAX_CONCURRENT_ACTIVITIES, default 1000). */
const WORKER_SLOTS = 1000;

let fake: FakeLlmServer;
let stack: TestStack;

beforeAll(async () => {
  fake = await startFakeLlmServer();
  stack = await startTestStack({
    providers: { openai: { apiKey: 'test-openai-key', baseURL: fake.openaiBaseURL }, anthropic: { apiKey: 'test-anthropic-key', baseURL: fake.anthropicBaseURL } },
    // One run may hold all 110 turns at once, so that the worker's per-tenant cap is what holds them back.
    runMaxParallelNodes: 200,
    workerActivities: { maxConcurrent: WORKER_SLOTS, maxConcurrentPerTenant: PER_TENANT },
  });
});

afterAll(async () => {
  await stack?.close();
  await fake?.close();
});

/** trigger → 110 parallel agents → output. */
function floodGraph() {
  const agents = Array.from({ length: FLOOD }, (_, i) => ({
    id: `turn${i}`,
    type: 'agent',
    position: { x: 200, y: i * 10 },
    data: { provider: 'openai', model: FLOOD_MODEL, prompt: `long turn ${i}` },
  }));
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
      ...agents,
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: 'all done' } },
    ],
    edges: agents.flatMap((a) => [
      { id: `in-${a.id}`, source: 'start', target: a.id },
      { id: `out-${a.id}`, source: a.id, target: 'out' },
    ]),
  };
}

const inFlight = () => fake.callsFor(FLOOD_MODEL).filter((c) => c.status === undefined && !c.aborted).length;

/** How many of the run's activities the worker has taken (Temporal's pending activities in state STARTED). */
async function takenByWorker(tenantId: string, executionId: string): Promise<number> {
  const described = await stack.temporal.workflow.getHandle(temporalWorkflowId(tenantId, executionId)).describe();
  return (described.raw.pendingActivities ?? []).filter((p) => p.state === PENDING_ACTIVITY_STATE_STARTED).length;
}

async function executionRow(tenantId: string, executionId: string): Promise<{ createdAt: Date; finishedAt: Date | null; status: string }> {
  const [row] = await stack.db.dataSource.query(`select status, created_at as "createdAt", finished_at as "finishedAt" from ${tenantSchemaName(tenantId)}.executions where id = $1`, [executionId]);
  return row;
}

describe('fair share inside the worker', () => {
  it("a tenant's 110 parallel long turns run 50 at a time while another tenant's run goes start to end", async () => {
    const a = await registerTenant(stack, 'Flooder');
    const b = await registerTenant(stack, 'Neighbour');
    const aWorkflow = await createWorkflow(stack, a, floodGraph(), 'Flood');
    const bWorkflow = await createWorkflow(stack, b, singleAgentGraph({ provider: 'echo', model: 'echo-1' }), 'Trivial');
    // Every flood call is held for longer than the test lasts: only a cancellation ends them.
    fake.script(FLOOD_MODEL, ...Array.from({ length: FLOOD }, () => ({ delayMs: 600_000 })));

    const flood = await startRun(stack, a, aWorkflow);
    // The flood has taken every slot it can (all its turns, unless the slots ran out first) and filled its share.
    await waitUntil(
      "the flood's turns taken by the worker",
      async () => {
        const taken = await takenByWorker(a.tenantId, flood);
        return taken === FLOOD || taken >= WORKER_SLOTS;
      },
      { timeoutMs: 120_000 },
    );
    await waitUntil(`${PER_TENANT} of A's turns at the provider`, () => inFlight() >= PER_TENANT, { timeoutMs: 60_000 });
    // The run's progress is recorded although the turn that carried it waits in the gate: A's run reads running.
    await waitUntil("A's run recorded as running", async () => (await executionRow(a.tenantId, flood)).status === 'running', { timeoutMs: 30_000 });

    const neighbour = await startRun(stack, b, bWorkflow, { topic: 'bees' });
    const done = await waitForExecution(stack, b, neighbour, undefined, 60_000);
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual({ out: expect.stringContaining('bees') });
    const row = await executionRow(b.tenantId, neighbour);
    const neighbourMs = new Date(row.finishedAt!).getTime() - new Date(row.createdAt).getTime();
    console.log(`fair share: B's agent run took ${neighbourMs} ms, start to end, while A held ${inFlight()} turns at the provider and ${FLOOD - PER_TENANT} in the gate`);
    expect(neighbourMs).toBeLessThan(2_000);

    // A's cap held the whole time: 50 calls made, none ended, none more let through.
    expect(fake.callsFor(FLOOD_MODEL)).toHaveLength(PER_TENANT);
    expect(inFlight()).toBe(PER_TENANT);
    expect((await executionRow(a.tenantId, flood)).status).toBe('running');
    // Another tenant's session sees nothing of the flood.
    expect((await stack.request('GET', `/api/v1/executions/${flood}`, { token: b.token })).status).toBe(404);

    // Cancelling the flood ends the calls in flight and the turns in the gate alike; none of the 60 reaches the provider.
    const cancel = await stack.request('POST', `/api/v1/executions/${flood}/cancel`, { token: a.token });
    expect(cancel.status).toBeLessThan(300);
    const cancelled = await waitForExecution(stack, a, flood, undefined, 60_000);
    expect(cancelled.status).toBe('cancelled');
    await waitUntil('the flood calls aborted', () => inFlight() === 0);
    expect(fake.callsFor(FLOOD_MODEL)).toHaveLength(PER_TENANT);
    expect(fake.callsFor(FLOOD_MODEL).every((c) => c.aborted)).toBe(true);
    const nodes = await stack.db.dataSource.query(`select status, count(*)::int as n from ${tenantSchemaName(a.tenantId)}.node_executions where execution_id = $1 group by status`, [flood]);
    expect(nodes.filter((n: { status: string }) => n.status === 'running')).toEqual([]);
  });
});
