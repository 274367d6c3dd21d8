// Execution retention (issue 15 item 6, docs/operations.md "Retention"), against the real stack: runs that ended
// past RETENTION_DAYS are purged, with their events, nodes, approvals and child runs, by the real system schedule's
// sweep (triggered here rather than waited for), in batches, across continue-as-new; open runs, a finished run
// whose child is still open, recent runs and another tenant's runs stay as they were, and the API stops answering
// for purged runs at once (its finished-runs cache is told).
import { randomBytes } from 'node:crypto';
import { ScheduleNotFoundError } from '@temporalio/client';
import { temporalWorkflowId } from '../core/events';
import { tenantSchemaName } from '../db';
import { ensureRetentionSchedule } from '../server/temporal/retention-schedule';
import type { RetentionSweepResult } from '../workflows/retention-sweep';
import { singleAgentGraph } from './fixtures/graphs';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';

jest.setTimeout(300_000);

const quickGraph = singleAgentGraph({ provider: 'echo', model: 'echo-1' });
const approvalGraph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
    { id: 'review', type: 'approval', position: { x: 200, y: 0 }, data: { title: 'Keep?' } },
    { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: 'kept' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'review' },
    { id: 'e2', source: 'review', sourceHandle: 'approved', target: 'out' },
  ],
};
const subflowGraph = (childId: string) => ({
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
    { id: 'sub', type: 'subflow', position: { x: 200, y: 0 }, data: { workflowId: childId, inputs: {} } },
    { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: 'done' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'sub' },
    { id: 'e2', source: 'sub', target: 'out' },
  ],
});

let stack: TestStack;
let a: TestSession;
let b: TestSession;
const scheduleId = `system/retention-test-${randomBytes(4).toString('hex')}`;
/** Workflows this test leaves open, ended in afterAll. */
const openWorkflows: string[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  a = await registerTenant(stack);
  b = await registerTenant(stack);
});

afterAll(async () => {
  await stack.temporal.schedule.getHandle(scheduleId).delete().catch((err: unknown) => {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  });
  await Promise.all(openWorkflows.map((id) => stack.temporal.workflow.getHandle(id).terminate('retention test over').catch(() => undefined)));
  await stack.close();
});

async function tenantRows(s: TestSession, sql: string, ids: string[]): Promise<number> {
  const [row] = (await stack.db.dataSource.query(sql.replaceAll('$schema', tenantSchemaName(s.tenantId)), [ids])) as Array<{ n: number }>;
  return row?.n ?? -1;
}
const eventsOf = (s: TestSession, ids: string[]) => tenantRows(s, `select count(*)::int as n from $schema.execution_events where execution_id = any($1::uuid[])`, ids);
const nodesOf = (s: TestSession, ids: string[]) => tenantRows(s, `select count(*)::int as n from $schema.node_executions where execution_id = any($1::uuid[])`, ids);
const approvalsOf = (s: TestSession, ids: string[]) => tenantRows(s, `select count(*)::int as n from $schema.approvals where execution_id = any($1::uuid[])`, ids);
const executionsOf = (s: TestSession, ids: string[]) => tenantRows(s, `select count(*)::int as n from $schema.executions where id = any($1::uuid[])`, ids);

/** Moves runs' ends (and starts) `days` into the past, as if they had ended then. */
async function age(s: TestSession, ids: string[], days: number, status?: string): Promise<void> {
  await stack.db.dataSource.query(
    `update ${tenantSchemaName(s.tenantId)}.executions
        set created_at = created_at - make_interval(days => $2), finished_at = case when $3::text is null then finished_at - make_interval(days => $2) else now() - make_interval(days => $2) end,
            status = coalesce($3::text, status)
      where id = any($1::uuid[])`,
    [ids, days, status ?? null],
  );
}

async function childOf(s: TestSession, parentId: string): Promise<string> {
  return waitUntil(`a child run of ${parentId}`, async () => {
    const rows: Array<{ id: string }> = await stack.db.dataSource.query(`select id from ${tenantSchemaName(s.tenantId)}.executions where parent_execution_id = $1`, [parentId]);
    return rows[0]?.id;
  });
}

async function finishedRun(s: TestSession, workflowId: string): Promise<string> {
  const id = await startRun(stack, s, workflowId, {});
  const run = await waitForExecution(stack, s, id);
  expect(run.status).toBe('succeeded');
  return id;
}

it('purges the runs that ended past retention, in batches, and nothing else', async () => {
  const quickA = await createWorkflow(stack, a, quickGraph, 'quick');
  const approvalA = await createWorkflow(stack, a, approvalGraph, 'approval');
  const withQuickChild = await createWorkflow(stack, a, subflowGraph(quickA), 'parent of quick');
  const withApprovalChild = await createWorkflow(stack, a, subflowGraph(approvalA), 'parent of approval');
  const quickB = await createWorkflow(stack, b, quickGraph, 'quick');

  // Past retention: three plain runs, one decided approval, one parent with its finished child.
  const old = [await finishedRun(a, quickA), await finishedRun(a, quickA), await finishedRun(a, quickA)];
  const decided = await startRun(stack, a, approvalA, {});
  await waitForExecution(stack, a, decided, (e) => e.status === 'waiting');
  expect((await stack.request('POST', `/api/v1/executions/${decided}/approvals/review`, { token: a.token, body: { decision: 'approve' } })).status).toBeLessThan(300);
  expect((await waitForExecution(stack, a, decided)).status).toBe('succeeded');
  old.push(decided);
  const parent = await finishedRun(a, withQuickChild);
  const child = await childOf(a, parent);
  old.push(parent);
  const purged = [...old, child];
  expect(await approvalsOf(a, [decided])).toBe(1);
  const purgedEvents = await eventsOf(a, purged);

  // Kept: a recent run, an old run still waiting, an old finished parent whose child still waits, B's runs.
  const recent = await finishedRun(a, quickA);
  const waiting = await startRun(stack, a, approvalA, {});
  await waitForExecution(stack, a, waiting, (e) => e.status === 'waiting');
  const openParent = await startRun(stack, a, withApprovalChild, {});
  const openChild = await childOf(a, openParent);
  await waitForExecution(stack, a, openChild, (e) => e.status === 'waiting');
  openWorkflows.push(temporalWorkflowId(a.tenantId, waiting), temporalWorkflowId(a.tenantId, openParent), temporalWorkflowId(a.tenantId, openChild));
  const runsOfB = [await finishedRun(b, quickB), await finishedRun(b, quickB)];

  await age(a, [...old, child], 40);
  await age(a, [waiting, openChild], 40);
  // A parent row that reads finished while its child is open (as a repaired row can): never purged before the child.
  await age(a, [openParent], 40, 'failed');
  const kept = [recent, waiting, openParent, openChild];
  const keptEvents = await eventsOf(a, kept);
  const eventsOfB = await eventsOf(b, runsOfB);
  // Read once more, so the API's finished-runs cache holds them when they go.
  for (const id of old) expect((await stack.request('GET', `/api/v1/executions/${id}`, { token: a.token })).status).toBe(200);

  // The system schedule as every API start makes it (twice: the second start finds it and updates it).
  const settings = { taskQueue: stack.taskQueue, retentionDays: 30, scheduleId, batchSize: 3, batchesPerRun: 4 };
  expect(await ensureRetentionSchedule(stack.temporal, settings)).toBe('created');
  expect(await ensureRetentionSchedule(stack.temporal, settings)).toBe('updated');
  const schedule = stack.temporal.schedule.getHandle(scheduleId);
  await schedule.trigger();
  const firing = await waitUntil('the schedule to start a sweep', async () => {
    const action = (await schedule.describe()).info.recentActions[0]?.action;
    return action?.type === 'startWorkflow' ? action.workflow : undefined;
  });
  const result: RetentionSweepResult = await stack.temporal.workflow.getHandle(firing.workflowId, firing.firstExecutionRunId).result();

  expect(result).toMatchObject({ runs: old.length, executions: purged.length, events: purgedEvents });
  expect(result.tenants).toBeGreaterThanOrEqual(2);
  // No batch removed more than 3 events: far more batches than runs, and the sweep continued as new on the way.
  expect(result.batches).toBeGreaterThanOrEqual(Math.ceil(purgedEvents / 3));
  const first = await stack.temporal.workflow.getHandle(firing.workflowId, firing.firstExecutionRunId).describe();
  expect(first.status.name).toBe('CONTINUED_AS_NEW');

  expect(await executionsOf(a, purged)).toBe(0);
  expect(await eventsOf(a, purged)).toBe(0);
  expect(await nodesOf(a, purged)).toBe(0);
  expect(await approvalsOf(a, purged)).toBe(0);
  for (const id of purged) expect((await stack.request('GET', `/api/v1/executions/${id}`, { token: a.token })).status).toBe(404);
  for (const id of old) expect((await stack.request('GET', `/api/v1/executions/${id}/events`, { token: a.token })).status).toBe(404);

  expect(await executionsOf(a, kept)).toBe(kept.length);
  expect(await eventsOf(a, kept)).toBe(keptEvents);
  expect((await stack.request('GET', `/api/v1/executions/${waiting}`, { token: a.token })).body.status).toBe('waiting');
  expect((await stack.request('GET', `/api/v1/executions/${recent}`, { token: a.token })).body.status).toBe('succeeded');
  expect(await executionsOf(b, runsOfB)).toBe(runsOfB.length);
  expect(await eventsOf(b, runsOfB)).toBe(eventsOfB);
  for (const id of runsOfB) expect((await stack.request('GET', `/api/v1/executions/${id}`, { token: b.token })).status).toBe(200);
});

it('deletes the system schedule when retention is off', async () => {
  expect(await ensureRetentionSchedule(stack.temporal, { taskQueue: stack.taskQueue, retentionDays: 30, scheduleId })).not.toBe('off');
  expect(await ensureRetentionSchedule(stack.temporal, { taskQueue: stack.taskQueue, retentionDays: 0, scheduleId })).toBe('off');
  await expect(stack.temporal.schedule.getHandle(scheduleId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  // Off twice is still off.
  expect(await ensureRetentionSchedule(stack.temporal, { taskQueue: stack.taskQueue, retentionDays: 0, scheduleId })).toBe('off');
});
