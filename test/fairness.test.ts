// Fair share between tenants (issue 12 item 7): with RUNS_MAX_CONCURRENT_PER_TENANT=5 a tenant's flood of starts
// waits as pending rows, in creation order, while another tenant's run starts at once; the queue survives the API
// and the worker going away (and a start lost between admission and Temporal); a queued run cancels where it stands.
// Each run waits on an approval the test gives, so runs overlap exactly as long as the test wants.
import { WorkflowNotFoundError } from '@temporalio/client';
import { TERMINAL_EXECUTION_STATUSES } from '../core/events';
import { tenantSchemaName } from '../db/tenant-scope';
import { RunClient } from '../server/temporal/run-client';
import { createWorkflow, registerTenant, waitForExecution, type TestSession } from './support/session';
import { startSecondApi, startTestStack, type ApiClient, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';

jest.setTimeout(240_000);

const LIMIT = 5;

/** trigger → hold (approval) → done: a run that holds its slot until the test approves it. */
const holdGraph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { n: { type: 'number', default: 0 } } } },
    { id: 'hold', type: 'approval', position: { x: 200, y: 0 }, data: { title: 'Release run {{inputs.n}}' } },
    { id: 'done', type: 'output', position: { x: 400, y: 0 }, data: { value: 'run {{inputs.n}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'hold' },
    { id: 'e2', source: 'hold', sourceHandle: 'approved', target: 'done' },
  ],
};

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ runsMaxConcurrentPerTenant: LIMIT, runAdmissionSweepMs: 500 });
});

afterAll(async () => {
  await stack?.close();
});

interface Row {
  id: string;
  status: string;
  createdAt: Date;
  admittedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  temporalRunId: string | null;
}

/** The tenant's execution rows as the database holds them, oldest first. */
async function rows(tenantId: string): Promise<Row[]> {
  return stack.db.dataSource.query(
    `select id, status, created_at as "createdAt", admitted_at as "admittedAt", started_at as "startedAt", finished_at as "finishedAt", temporal_run_id as "temporalRunId"
       from ${tenantSchemaName(tenantId)}.executions order by created_at, id`,
  );
}

const TERMINAL: readonly string[] = TERMINAL_EXECUTION_STATUSES;
const isQueued = (r: Row) => r.status === 'pending' && !r.admittedAt && !r.temporalRunId;
const holdsSlot = (r: Row) => !TERMINAL.includes(r.status) && !isQueued(r);

/**
 * Samples the tenant's slots until stopped: the most runs holding a slot at once in the database, and the most
 * canvasRun workflows Temporal's visibility lists as running for the tenant (its TenantId search attribute).
 */
function sampleSlots(tenantId: string) {
  let max = 0;
  let temporalMax = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const [now, open] = await Promise.all([
        rows(tenantId),
        stack.temporal.workflow.count(`TenantId = "${tenantId}" AND WorkflowType = "canvasRun" AND ExecutionStatus = "Running"`),
      ]);
      max = Math.max(max, now.filter(holdsSlot).length);
      temporalMax = Math.max(temporalMax, open.count);
      samples += 1;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { max, temporalMax, samples };
    },
  };
}

/** Over [from, to] spans: the most open at once, and the longest stretch with more than `limit` open (ms). */
function overlapOf(spans: Array<{ from: number; to: number }>, limit = LIMIT): { max: number; longestOverLimitMs: number } {
  const edges = spans.flatMap((s) => [
    { at: s.from, d: 1 },
    { at: s.to, d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d); // an end before a start at the same instant
  let open = 0;
  let max = 0;
  let overSince: number | null = null;
  let longest = 0;
  for (const e of edges) {
    open += e.d;
    max = Math.max(max, open);
    if (open > limit && overSince === null) overSince = e.at;
    if (open <= limit && overSince !== null) {
      longest = Math.max(longest, e.at - overSince);
      overSince = null;
    }
  }
  return { max, longestOverLimitMs: longest };
}

/** The most runs whose [started, finished] spans in their rows overlap: how many the runs' own writes saw at once. */
function maxOverlap(done: Row[]): number {
  return overlapOf(done.map((r) => ({ from: new Date(r.startedAt!).getTime(), to: new Date(r.finishedAt!).getTime() }))).max;
}

/** The tenant's canvasRun workflows as Temporal recorded them: start to close. */
async function temporalSpans(tenantId: string): Promise<Array<{ from: number; to: number }>> {
  const spans = [];
  for await (const info of stack.temporal.workflow.list({ query: `TenantId = "${tenantId}" AND WorkflowType = "canvasRun"` })) {
    spans.push({ from: info.startTime.getTime(), to: (info.closeTime ?? new Date()).getTime() });
  }
  return spans;
}

async function start(api: ApiClient, session: TestSession, workflowId: string, n: number) {
  const res = await api.request('POST', `/api/v1/workflows/${workflowId}/executions`, { token: session.token, body: { inputs: { n } } });
  expect(res.status).toBe(202);
  return res.body as { id: string; status: string; queued?: boolean; temporal: { runId: string | null } };
}

/** Approves every run of the tenant that waits on its approval, oldest first; how many it approved. */
async function approveWaiting(api: ApiClient, session: TestSession): Promise<number> {
  const waiting = (await rows(session.tenantId)).filter((r) => r.status === 'waiting');
  for (const r of waiting) {
    const res = await api.request('POST', `/api/v1/executions/${r.id}/approvals/hold`, { token: session.token, body: { decision: 'approve' } });
    // 409: decided already (a sample read it waiting just before its end was recorded).
    if (res.status !== 200 && res.status !== 409) throw new Error(`approve answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return waiting.length;
}

/** Approves waiting runs until every run of the tenant has ended. */
async function drain(api: ApiClient, session: TestSession, total: number): Promise<void> {
  await waitUntil(
    `all ${total} runs of the tenant ended`,
    async () => {
      await approveWaiting(api, session);
      const now = await rows(session.tenantId);
      return now.length === total && now.every((r) => TERMINAL.includes(r.status));
    },
    { timeoutMs: 180_000, intervalMs: 50 },
  );
}

describe('fair share between tenants', () => {
  it("one tenant's 50 starts wait their turn in creation order, never more than 5 at once, while another tenant's run starts at once", async () => {
    const a = await registerTenant(stack, 'Flooder');
    const b = await registerTenant(stack, 'Neighbour');
    const aWorkflow = await createWorkflow(stack, a, holdGraph, 'Hold');
    const bWorkflow = await createWorkflow(stack, b, holdGraph, 'Hold');

    const startsAt = Date.now();
    const started = [];
    for (let n = 0; n < 50; n++) started.push(await start(stack, a, aWorkflow, n));
    const floodMs = Date.now() - startsAt;
    // Every start is answered 202 pending; the first five got slots and reached Temporal, the rest are queued.
    expect(started.every((s) => s.status === 'pending')).toBe(true);
    expect(started.slice(0, LIMIT).every((s) => s.queued === false && s.temporal.runId)).toBe(true);
    expect(started.slice(LIMIT).every((s) => s.queued === true && s.temporal.runId === null)).toBe(true);
    const queuedView = await stack.request('GET', `/api/v1/executions/${started[49]!.id}`, { token: a.token });
    expect(queuedView.body).toMatchObject({ status: 'pending', queued: true });
    const listed = await stack.request('GET', `/api/v1/executions?workflowId=${aWorkflow}&limit=100`, { token: a.token });
    expect(listed.body.items.filter((e: { queued?: boolean }) => e.queued === true)).toHaveLength(45);
    // Another tenant cannot see the queued run.
    expect((await stack.request('GET', `/api/v1/executions/${started[49]!.id}`, { token: b.token })).status).toBe(404);

    // B's start takes its own tenant's free slot in the same request: no queue, no sweep in between.
    const bAsked = Date.now();
    const bRun = await start(stack, b, bWorkflow, 0);
    expect(bRun.queued).toBe(false);
    expect(bRun.temporal.runId).toBeTruthy();
    await waitForExecution(stack, b, bRun.id, (e) => e.status === 'waiting');
    const bWaitingMs = Date.now() - bAsked;
    const aWhileB = await rows(a.tenantId);
    expect(aWhileB.filter(isQueued)).toHaveLength(45);

    // The first five reach their approvals; then release them as they come, sampling the slots meanwhile.
    await waitUntil('the first five runs of A wait on their approvals', async () => (await rows(a.tenantId)).filter((r) => r.status === 'waiting').length === LIMIT);
    const sampler = sampleSlots(a.tenantId);
    const drainAt = Date.now();
    await drain(stack, a, 50);
    const drainMs = Date.now() - drainAt;
    const sampled = await sampler.stop();

    const done = await rows(a.tenantId);
    expect(done.every((r) => r.status === 'succeeded')).toBe(true);
    expect(sampled.max).toBeLessThanOrEqual(LIMIT);
    expect(sampled.max).toBe(LIMIT); // the share was used, not just respected
    const overlap = maxOverlap(done);
    expect(overlap).toBeLessThanOrEqual(LIMIT);
    // Temporal's own start and close times: a slot frees when the run's end is written, a moment before its
    // workflow closes, so a sixth workflow may overlap a closing one, never a seventh (docs/decisions.md).
    const inTemporal = overlapOf(await temporalSpans(a.tenantId));
    expect(inTemporal.max).toBeLessThanOrEqual(LIMIT + 1);
    expect(sampled.temporalMax).toBeLessThanOrEqual(LIMIT + 1);
    // Admitted in creation order: the admission times never go back along the creation order.
    const admitted = done.map((r) => new Date(r.admittedAt!).getTime());
    expect(admitted.every((t, i) => i === 0 || t >= admitted[i - 1]!)).toBe(true);
    // How long a freed slot stayed empty: each queued run's admission after the latest end before it.
    const ends = done.map((r) => new Date(r.finishedAt!).getTime()).sort((x, y) => x - y);
    const gaps = done.slice(LIMIT).map((r) => {
      const at = new Date(r.admittedAt!).getTime();
      const freed = ends.filter((e) => e <= at).pop() ?? at;
      return at - freed;
    });
    gaps.sort((x, y) => x - y);
    const startToRun = done.slice(LIMIT).map((r) => new Date(r.startedAt!).getTime() - new Date(r.admittedAt!).getTime());
    startToRun.sort((x, y) => x - y);
    console.log(
      JSON.stringify({
        limit: LIMIT,
        floodOf50StartsMs: floodMs,
        neighbourStartToWaitingMs: bWaitingMs,
        neighbourQueuedBehindFlood: false,
        floodQueuedWhileNeighbourRan: aWhileB.filter(isQueued).length,
        maxHoldingSlotsSampled: sampled.max,
        maxRunningInTemporalSampled: sampled.temporalMax,
        samples: sampled.samples,
        maxOverlapOfRunSpans: overlap,
        temporalWorkflowSpans: inTemporal,
        drain50Ms: drainMs,
        slotFreedToNextAdmittedMs: { median: gaps[Math.floor(gaps.length / 2)], max: gaps[gaps.length - 1] },
        admittedToWorkflowRunningMs: { median: startToRun[Math.floor(startToRun.length / 2)], max: startToRun[startToRun.length - 1] },
      }),
    );
    await stack.request('POST', `/api/v1/executions/${bRun.id}/approvals/hold`, { token: b.token, body: { decision: 'approve' } });
    await waitForExecution(stack, b, bRun.id);
  });

  it('queued runs survive the API and the worker going away, and a start lost after admission is made again', async () => {
    const c = await registerTenant(stack, 'Restarts');
    const workflowId = await createWorkflow(stack, c, holdGraph, 'Hold');
    for (let n = 0; n < 12; n++) await start(stack, c, workflowId, n);
    await waitUntil('five runs wait on approvals', async () => (await rows(c.tenantId)).filter((r) => r.status === 'waiting').length === LIMIT);

    // The API goes away: nothing admits any more. Two runs end meanwhile, freeing slots nobody hands on.
    await stack.runAdmission.stop();
    const [first, second] = (await rows(c.tenantId)).filter((r) => r.status === 'waiting');
    for (const r of [first!, second!]) {
      expect((await stack.request('POST', `/api/v1/executions/${r.id}/approvals/hold`, { token: c.token, body: { decision: 'approve' } })).status).toBe(200);
    }
    await waitUntil('the two approved runs ended', async () => (await rows(c.tenantId)).filter((r) => r.status === 'succeeded').length === 2);
    // An API that admitted the oldest queued run and died before starting it on Temporal.
    const schema = tenantSchemaName(c.tenantId);
    const oldestQueued = (await rows(c.tenantId)).find(isQueued)!;
    await stack.db.dataSource.query(`update ${schema}.executions set admitted_at = now() - interval '1 minute' where id = $1`, [oldestQueued.id]);
    // And the worker goes away too.
    await stack.stopWorker();
    const before = await rows(c.tenantId);
    expect(before.filter(isQueued)).toHaveLength(6);
    expect(before.filter((r) => r.status === 'waiting')).toHaveLength(3);

    // Both come back (a fresh API process on the same database): the lost start is made, the queue moves on.
    await stack.startWorker();
    const second2 = await startSecondApi(stack, { runsMaxConcurrentPerTenant: LIMIT, runAdmissionSweepMs: 500 });
    try {
      await waitUntil('the lost start was made', async () => (await rows(c.tenantId)).find((r) => r.id === oldestQueued.id)?.temporalRunId);
      const sampler = sampleSlots(c.tenantId);
      await drain(second2.api, c, 12);
      const sampled = await sampler.stop();
      const done = await rows(c.tenantId);
      expect(done.map((r) => r.status)).toEqual(Array(12).fill('succeeded'));
      expect(sampled.max).toBeLessThanOrEqual(LIMIT);
      expect(maxOverlap(done)).toBeLessThanOrEqual(LIMIT);
      console.log(JSON.stringify({ restart: { runs: 12, allSucceeded: true, maxHoldingSlotsSampled: sampled.max, maxOverlapOfRunSpans: maxOverlap(done) } }));
    } finally {
      await second2.close();
      stack.runAdmission.start();
    }
  });

  it('starts racing through two API processes give out exactly the five slots (the per-tenant lock)', async () => {
    const e = await registerTenant(stack, 'Racers');
    const workflowId = await createWorkflow(stack, e, holdGraph, 'Hold');
    const other = await startSecondApi(stack, { runsMaxConcurrentPerTenant: LIMIT, runAdmissionSweepMs: 500 });
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => start(n % 2 ? other.api : stack, e, workflowId, n)));
      expect(answers.filter((x) => x.queued === false)).toHaveLength(LIMIT);
      expect(answers.filter((x) => x.queued === true)).toHaveLength(20 - LIMIT);
      const now = await rows(e.tenantId);
      expect(now.filter(holdsSlot)).toHaveLength(LIMIT);
      // The slots went to the oldest rows: admission follows creation order even when the requests race.
      expect(now.slice(0, LIMIT).every((r) => r.admittedAt)).toBe(true);
      await drain(stack, e, 20);
      const finished = await rows(e.tenantId);
      expect(finished.every((r) => r.status === 'succeeded')).toBe(true);
      // A start made again late (a sweep that took a start for lost) answers the closed run and runs nothing.
      const first = finished[0]!;
      const [plan] = await stack.db.dataSource.query(`select plan, inputs, workflow_id as "workflowId" from ${tenantSchemaName(e.tenantId)}.executions where id = $1`, [first.id]);
      const again = await new RunClient(stack.temporal, stack.taskQueue).start({ tenantId: e.tenantId, executionId: first.id, workflowId: plan.workflowId, plan: plan.plan, inputs: plan.inputs });
      expect(again.runId).toBe(first.temporalRunId);
      expect((await stack.temporal.workflow.getHandle(again.workflowId).describe()).status.name).toBe('COMPLETED');
    } finally {
      await other.close();
    }
  });

  it('a queued run cancels where it stands: cancelled, never on Temporal, and the queue goes on without it', async () => {
    const d = await registerTenant(stack, 'Cancels');
    const other = await registerTenant(stack, 'Other');
    const workflowId = await createWorkflow(stack, d, holdGraph, 'Hold');
    const runs = [];
    for (let n = 0; n < LIMIT + 2; n++) runs.push(await start(stack, d, workflowId, n));
    const queued = runs[LIMIT]!;
    expect(queued.queued).toBe(true);

    expect((await stack.request('POST', `/api/v1/executions/${queued.id}/cancel`, { token: other.token })).status).toBe(404);
    const cancelled = await stack.request('POST', `/api/v1/executions/${queued.id}/cancel`, { token: d.token });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', queued: false, temporal: { runId: null } });
    const events = await stack.request('GET', `/api/v1/executions/${queued.id}/events`, { token: d.token });
    expect(events.body.events.map((e: { type: string }) => e.type)).toEqual(['execution.cancelled']);
    await expect(stack.temporal.workflow.getHandle(cancelled.body.temporal.workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    // Cancelling it again is a conflict, like any finished run.
    expect((await stack.request('POST', `/api/v1/executions/${queued.id}/cancel`, { token: d.token })).status).toBe(409);

    await drain(stack, d, LIMIT + 2);
    const done = await rows(d.tenantId);
    expect(done.find((r) => r.id === queued.id)).toMatchObject({ status: 'cancelled', temporalRunId: null, admittedAt: null });
    expect(done.filter((r) => r.status === 'succeeded')).toHaveLength(LIMIT + 1);
    await expect(stack.temporal.workflow.getHandle(cancelled.body.temporal.workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});
