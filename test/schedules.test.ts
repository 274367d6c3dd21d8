// Schedules on a real stack (Temporal Schedules): a schedule every 2 s starts runs recorded as scheduled;
// pausing stops the firings (trigger-now still fires); it keeps firing after the worker restarts and through
// a second API process on the same database; deleting it removes it from Temporal; another tenant gets 404;
// a bad cron, time zone or spec is a 4xx.
import { ScheduleNotFoundError } from '@temporalio/client';
import { singleAgentGraph } from './fixtures/graphs';
import { createWorkflow, registerTenant, type TestSession } from './support/session';
import { startSecondApi, startTestStack, type ApiClient, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';
import { temporalScheduleId } from '../server/temporal/schedule-client';

jest.setTimeout(180_000);

let stack: TestStack;
let owner: TestSession;
let stranger: TestSession;
let workflowId: string;

beforeAll(async () => {
  stack = await startTestStack();
  owner = await registerTenant(stack);
  stranger = await registerTenant(stack);
  workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'echo', model: 'echo-1' }));
});

afterAll(async () => {
  await stack?.close();
});

async function scheduledRuns(api: ApiClient, scheduleId: string): Promise<any[]> {
  const res = await api.request('GET', `/api/v1/executions?workflowId=${workflowId}&trigger=schedule&limit=200`, { token: owner.token });
  expect(res.status).toBe(200);
  return res.body.items.filter((e: any) => e.trigger.scheduleId === scheduleId);
}

async function temporalInfo(scheduleId: string) {
  return stack.temporal.schedule.getHandle(temporalScheduleId(owner.tenantId, scheduleId)).describe();
}


test('a schedule every 2 s starts runs recorded as scheduled; pause stops it, trigger-now fires once; it survives API and worker restarts; delete removes it from Temporal', async () => {
  const created = await stack.request('POST', `/api/v1/workflows/${workflowId}/schedules`, { token: owner.token, body: { intervalSeconds: 2, inputs: { topic: 'ticks' } } });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ id: expect.any(String), spec: { intervalSeconds: 2 }, paused: false, nextRunAt: expect.any(String) });
  const scheduleId: string = created.body.id;

  // Runs come, each an ordinary execution recorded as started by this schedule.
  const firstRuns = await waitUntil('two scheduled runs succeeded', async () => {
    const runs = (await scheduledRuns(stack, scheduleId)).filter((e) => e.status === 'succeeded');
    return runs.length >= 2 ? runs : null;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  const one = await stack.request('GET', `/api/v1/executions/${firstRuns[0].id}`, { token: owner.token });
  expect(one.body).toMatchObject({ status: 'succeeded', trigger: { type: 'schedule', scheduleId }, inputs: { topic: 'ticks' }, outputs: { out: 'Tell me about ticks' } });

  // Pause: Temporal stops taking actions; every action taken so far ends as a recorded run, and no more come.
  const pausedAt = Date.now();
  const paused = await stack.request('PATCH', `/api/v1/schedules/${scheduleId}`, { token: owner.token, body: { paused: true } });
  expect(paused.status).toBe(200);
  expect(paused.body).toMatchObject({ paused: true, nextRunAt: null, nextRunTimes: [] });
  const atPause = await temporalInfo(scheduleId);
  expect(atPause.state.paused).toBe(true);
  const taken = atPause.info.numActionsTaken;
  await waitUntil('every firing before the pause recorded its run', async () => (await scheduledRuns(stack, scheduleId)).length === taken || null, { timeoutMs: 15_000 });

  // Trigger now fires while paused, once.
  expect((await stack.request('POST', `/api/v1/schedules/${scheduleId}/trigger`, { token: owner.token })).status).toBe(202);
  await waitUntil('the triggered run is recorded', async () => (await scheduledRuns(stack, scheduleId)).length === taken + 1 || null, { timeoutMs: 15_000 });

  // Three intervals after the pause (three firings, had it not held), Temporal took only the triggered action.
  await waitUntil('three intervals passed since the pause', async () => {
    const d = await temporalInfo(scheduleId);
    expect(d.info.numActionsTaken).toBe(taken + 1);
    return Date.now() - pausedAt >= 3 * 2000 + 500 || null;
  }, { timeoutMs: 20_000, intervalMs: 500 });
  expect((await temporalInfo(scheduleId)).info.numActionsTaken).toBe(taken + 1);
  expect(await scheduledRuns(stack, scheduleId)).toHaveLength(taken + 1);

  // Restart: the worker goes down and comes back, a second API process on the same database resumes the
  // schedule (it lives in Temporal), and runs come again.
  await stack.stopWorker();
  const second = await startSecondApi(stack);
  try {
    const listed = await second.api.request('GET', `/api/v1/workflows/${workflowId}/schedules`, { token: owner.token });
    expect(listed.body.schedules).toEqual([expect.objectContaining({ id: scheduleId, paused: true, nextRunAt: null })]);
    const resumed = await second.api.request('PATCH', `/api/v1/schedules/${scheduleId}`, { token: owner.token, body: { paused: false } });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ paused: false, nextRunAt: expect.any(String) });
    await stack.startWorker();
    await waitUntil('two more scheduled runs succeeded after the restart', async () => {
      const runs = (await scheduledRuns(second.api, scheduleId)).filter((e) => e.status === 'succeeded');
      return runs.length >= taken + 3 || null;
    }, { timeoutMs: 30_000, intervalMs: 250 });

    // Delete: gone from Temporal and from the list.
    expect((await second.api.request('DELETE', `/api/v1/schedules/${scheduleId}`, { token: owner.token })).status).toBe(204);
  } finally {
    await second.close();
  }
  await expect(temporalInfo(scheduleId)).rejects.toBeInstanceOf(ScheduleNotFoundError);
  expect((await stack.request('GET', `/api/v1/workflows/${workflowId}/schedules`, { token: owner.token })).body.schedules).toEqual([]);
  expect((await stack.request('PATCH', `/api/v1/schedules/${scheduleId}`, { token: owner.token, body: { paused: true } })).status).toBe(404);
});

test('a cron schedule in a time zone shows its next run; another tenant gets 404 on every route', async () => {
  const created = await stack.request('POST', `/api/v1/workflows/${workflowId}/schedules`, { token: owner.token, body: { cron: '0 9 * * 1', timezone: 'Europe/Paris' } });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ spec: { cron: '0 9 * * 1', timezone: 'Europe/Paris' }, paused: false });
  const next = new Date(created.body.nextRunAt);
  expect(next.getTime()).toBeGreaterThan(Date.now());
  const parisTime = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', weekday: 'short', hour: '2-digit', minute: '2-digit' });
  expect(parisTime.format(next)).toBe('Mon 09:00');
  // The coming firings the editor lists: five Mondays at 09:00 in Paris, soonest first, a week apart (give or take a DST hour).
  const times: string[] = created.body.nextRunTimes;
  expect(times).toHaveLength(5);
  expect(times[0]).toBe(created.body.nextRunAt);
  for (const t of times) expect(parisTime.format(new Date(t))).toBe('Mon 09:00');
  for (let i = 1; i < times.length; i += 1) expect(Math.abs(Date.parse(times[i]!) - Date.parse(times[i - 1]!) - 7 * 86_400_000)).toBeLessThanOrEqual(3_600_000);
  const id: string = created.body.id;

  const as = (token: string) => ({ token });
  expect((await stack.request('GET', `/api/v1/workflows/${workflowId}/schedules`, as(stranger.token))).status).toBe(404);
  expect((await stack.request('POST', `/api/v1/workflows/${workflowId}/schedules`, { ...as(stranger.token), body: { intervalSeconds: 60 } })).status).toBe(404);
  expect((await stack.request('PATCH', `/api/v1/schedules/${id}`, { ...as(stranger.token), body: { paused: true } })).status).toBe(404);
  expect((await stack.request('POST', `/api/v1/schedules/${id}/trigger`, as(stranger.token))).status).toBe(404);
  expect((await stack.request('DELETE', `/api/v1/schedules/${id}`, as(stranger.token))).status).toBe(404);
  expect((await temporalInfo(id)).state.paused).toBe(false);

  // Changing the timing reaches Temporal.
  const changed = await stack.request('PATCH', `/api/v1/schedules/${id}`, { token: owner.token, body: { timezone: 'America/New_York' } });
  expect(changed.status).toBe(200);
  expect(changed.body.spec).toEqual({ cron: '0 9 * * 1', timezone: 'America/New_York' });
  expect((await temporalInfo(id)).spec.timezone).toBe('America/New_York');
  expect((await stack.request('DELETE', `/api/v1/schedules/${id}`, { token: owner.token })).status).toBe(204);
});

test('a bad cron, time zone or spec is a 4xx and leaves no schedule', async () => {
  const post = (body: unknown) => stack.request('POST', `/api/v1/workflows/${workflowId}/schedules`, { token: owner.token, body });
  for (const body of [{ cron: 'every tuesday' }, { cron: '* * * * *', intervalSeconds: 5 }, {}, { intervalSeconds: 0 }, { cron: '* * * * *', timezone: 'Mars/Olympus' }, { intervalSeconds: 5, timezone: 'UTC' }]) {
    const res = await post(body);
    expect({ body, status: res.status }).toEqual({ body, status: 400 });
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  }
  const outOfRange = await post({ cron: '61 * * * *' });
  expect(outOfRange.status).toBe(422);
  expect(outOfRange.body.error.code).toBe('SCHEDULE_INVALID');
  const badInputs = await post({ intervalSeconds: 60, inputs: { nosuch: 'x' } });
  expect(badInputs.status).toBe(422);
  expect(badInputs.body.error.code).toBe('INPUTS_INVALID');
  expect((await stack.request('GET', `/api/v1/workflows/${workflowId}/schedules`, { token: owner.token })).body.schedules).toEqual([]);
});

test("deleting a workflow deletes its schedules in Temporal", async () => {
  const other = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'echo', model: 'echo-1' }), 'Doomed');
  const created = await stack.request('POST', `/api/v1/workflows/${other}/schedules`, { token: owner.token, body: { intervalSeconds: 3600, paused: true } });
  expect(created.status).toBe(201);
  expect((await temporalInfo(created.body.id)).state.paused).toBe(true);
  expect((await stack.request('DELETE', `/api/v1/workflows/${other}`, { token: owner.token })).status).toBe(204);
  await expect(temporalInfo(created.body.id)).rejects.toBeInstanceOf(ScheduleNotFoundError);
});

test("deleting a tenant deletes its schedules in Temporal", async () => {
  const doomed = await registerTenant(stack);
  const wf = await createWorkflow(stack, doomed, singleAgentGraph({ provider: 'echo', model: 'echo-1' }));
  const created = await stack.request('POST', `/api/v1/workflows/${wf}/schedules`, { token: doomed.token, body: { intervalSeconds: 3600 } });
  expect(created.status).toBe(201);
  const handle = stack.temporal.schedule.getHandle(temporalScheduleId(doomed.tenantId, created.body.id));
  expect((await handle.describe()).state.paused).toBe(false);
  const me = await stack.request('GET', '/api/v1/auth/me', { token: doomed.token });
  expect((await stack.request('DELETE', '/api/v1/tenant', { token: doomed.token, body: { confirmSlug: me.body.tenant.slug } })).status).toBe(204);
  await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
});
