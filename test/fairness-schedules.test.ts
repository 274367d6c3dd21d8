// Fair share between tenants for a schedule's runs (issue 12 item 7): with RUNS_MAX_CONCURRENT_PER_TENANT=2 and
// both slots held, a schedule's firing records its run queued and waits (the overlap policy skips the next
// firings meanwhile); a freed slot goes to it and its firing starts it, never more than two running; a queued
// scheduled run cancelled ends its firing with nothing started. Runs hold their slots on an approval the test gives.
import { WorkflowNotFoundError } from '@temporalio/client';
import { TERMINAL_EXECUTION_STATUSES } from '../core/events';
import { tenantSchemaName } from '../db/tenant-scope';
import { temporalScheduleId } from '../server/temporal/schedule-client';
import { createWorkflow, registerTenant, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';

jest.setTimeout(180_000);

const LIMIT = 2;

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
let owner: TestSession;
let workflowId: string;

beforeAll(async () => {
  stack = await startTestStack({ runsMaxConcurrentPerTenant: LIMIT, runAdmissionSweepMs: 500 });
  owner = await registerTenant(stack, 'Scheduled share');
  workflowId = await createWorkflow(stack, owner, holdGraph, 'Hold');
});

afterAll(async () => {
  await stack?.close();
});

interface Row {
  id: string;
  status: string;
  trigger: { type: string };
  admittedAt: Date | null;
  temporalRunId: string | null;
  temporalWorkflowId: string;
}

async function rows(): Promise<Row[]> {
  return stack.db.dataSource.query(
    `select id, status, trigger, admitted_at as "admittedAt", temporal_run_id as "temporalRunId", temporal_workflow_id as "temporalWorkflowId"
       from ${tenantSchemaName(owner.tenantId)}.executions order by created_at, id`,
  );
}

const TERMINAL: readonly string[] = TERMINAL_EXECUTION_STATUSES;
const isQueued = (r: Row) => r.status === 'pending' && !r.admittedAt && !r.temporalRunId;
const holdsSlot = (r: Row) => !TERMINAL.includes(r.status) && !isQueued(r);
const scheduled = (all: Row[]) => all.filter((r) => r.trigger.type === 'schedule');

async function startManual(n: number) {
  const res = await stack.request('POST', `/api/v1/workflows/${workflowId}/executions`, { token: owner.token, body: { inputs: { n } } });
  expect(res.status).toBe(202);
  return res.body as { id: string; queued?: boolean };
}

async function approve(executionId: string) {
  const res = await stack.request('POST', `/api/v1/executions/${executionId}/approvals/hold`, { token: owner.token, body: { decision: 'approve' } });
  expect(res.status).toBe(200);
}

const scheduleHandle = (scheduleId: string) => stack.temporal.schedule.getHandle(temporalScheduleId(owner.tenantId, scheduleId));

/** Samples the most runs of the tenant holding a slot at once, until stopped. */
function sampleSlots() {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      max = Math.max(max, (await rows()).filter(holdsSlot).length);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}

describe("a schedule's runs in the tenant's fair share", () => {
  it('a firing over the limit waits queued (the next firings are skipped), then starts its run when a slot frees; a cancelled queued run ends its firing with nothing started', async () => {
    const first = await startManual(1);
    const second = await startManual(2);
    await waitForExecution(stack, owner, first.id, (e) => e.status === 'waiting');
    await waitForExecution(stack, owner, second.id, (e) => e.status === 'waiting');
    const sampler = sampleSlots();

    // Every 2 s: the first firing's run is queued behind the two held slots.
    const created = await stack.request('POST', `/api/v1/workflows/${workflowId}/schedules`, { token: owner.token, body: { intervalSeconds: 2 } });
    expect(created.status).toBe(201);
    const scheduleId = created.body.id as string;
    const queued = await waitUntil('the firing recorded its run', async () => scheduled(await rows())[0], { timeoutMs: 30_000 });
    expect(isQueued(queued)).toBe(true);
    const view = await stack.request('GET', `/api/v1/executions/${queued.id}`, { token: owner.token });
    expect(view.body).toMatchObject({ status: 'pending', queued: true, trigger: { type: 'schedule', scheduleId } });
    await expect(stack.temporal.workflow.getHandle(queued.temporalWorkflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

    // The firing still runs while its run waits, so the schedule's overlap policy (skip) skips the next firings.
    await waitUntil('a later firing was skipped for the overlap', async () => (await scheduleHandle(scheduleId).describe()).info.numActionsSkippedOverlap > 0, { timeoutMs: 30_000 });
    const described = await scheduleHandle(scheduleId).describe();
    expect(described.info.runningActions).toHaveLength(1);
    expect(scheduled(await rows())).toHaveLength(1);
    expect((await stack.request('PATCH', `/api/v1/schedules/${scheduleId}`, { token: owner.token, body: { paused: true } })).status).toBe(200);

    // A slot frees: the queued scheduled run gets it and its firing starts it; it runs to its approval.
    await approve(first.id);
    await waitForExecution(stack, owner, first.id);
    await waitForExecution(stack, owner, queued.id, (e) => e.status === 'waiting', 30_000);
    const admitted = (await rows()).find((r) => r.id === queued.id)!;
    expect(admitted.admittedAt).toBeTruthy();
    expect(admitted.temporalRunId).toBeTruthy();
    await approve(queued.id);
    const done = await waitForExecution(stack, owner, queued.id);
    expect(done).toMatchObject({ status: 'succeeded', trigger: { type: 'schedule', scheduleId } });
    await waitUntil('the firing ended with its run', async () => (await scheduleHandle(scheduleId).describe()).info.runningActions.length === 0);

    // Both slots held again; trigger-now fires, its run is queued; cancelling it ends the firing, nothing started.
    const third = await startManual(3);
    await waitForExecution(stack, owner, third.id, (e) => e.status === 'waiting');
    expect((await stack.request('POST', `/api/v1/schedules/${scheduleId}/trigger`, { token: owner.token })).status).toBe(202);
    const queuedAgain = await waitUntil('the triggered firing recorded its run', async () => scheduled(await rows()).find((r) => r.id !== queued.id), { timeoutMs: 30_000 });
    expect(isQueued(queuedAgain)).toBe(true);
    // (A trigger-now fires with overlap "allow all", so the schedule does not list it among its running actions.)
    const firing = await waitUntil('the firing runs', async () => {
      for await (const w of stack.temporal.workflow.list({ query: `TenantId = "${owner.tenantId}" AND WorkflowType = "scheduledStart" AND ExecutionStatus = "Running"` })) return w;
      return null;
    });
    const cancelled = await stack.request('POST', `/api/v1/executions/${queuedAgain.id}/cancel`, { token: owner.token });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', queued: false, temporal: { runId: null } });
    const firingResult = await stack.temporal.workflow.getHandle(firing.workflowId, firing.runId).result();
    expect(firingResult).toEqual({ executionId: queuedAgain.id });
    await expect(stack.temporal.workflow.getHandle(queuedAgain.temporalWorkflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect((await rows()).find((r) => r.id === queuedAgain.id)).toMatchObject({ status: 'cancelled', admittedAt: null, temporalRunId: null });

    for (const r of [second, third]) await approve(r.id);
    for (const r of [second, third]) await waitForExecution(stack, owner, r.id);
    const max = await sampler.stop();
    expect(max).toBeLessThanOrEqual(LIMIT);
    console.log(JSON.stringify({ scheduledShare: { limit: LIMIT, maxHoldingSlotsSampled: max, skippedOverlap: described.info.numActionsSkippedOverlap } }));
    expect((await stack.request('DELETE', `/api/v1/schedules/${scheduleId}`, { token: owner.token })).status).toBe(204);
  });
});
