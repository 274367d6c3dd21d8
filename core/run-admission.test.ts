import { holdsRunSlot, isChildRun, isQueuedRun, runsToAdmit, scheduledSlotWaitMs, startedByItsFiring, type AdmissionRow } from './run-admission';

const row = (over: Partial<AdmissionRow> = {}): AdmissionRow => ({ status: 'pending', admittedAt: null, temporalRunId: null, parentExecutionId: null, ...over });

describe('run admission rules', () => {
  it('a pending top-level run never admitted nor started waits in the queue and holds no slot', () => {
    expect(isQueuedRun(row())).toBe(true);
    expect(holdsRunSlot(row())).toBe(false);
  });

  it('an admitted run holds its slot from admission until it ends, started or not', () => {
    const at = new Date();
    expect(holdsRunSlot(row({ admittedAt: at }))).toBe(true);
    expect(holdsRunSlot(row({ admittedAt: at, temporalRunId: 'r1', status: 'running' }))).toBe(true);
    expect(holdsRunSlot(row({ admittedAt: at, temporalRunId: 'r1', status: 'waiting' }))).toBe(true);
    for (const status of ['succeeded', 'failed', 'cancelled', 'timed_out'] as const) expect(holdsRunSlot(row({ admittedAt: at, status }))).toBe(false);
  });

  it('a run some path started without admission counts against the share (never undercount what Temporal runs)', () => {
    expect(isQueuedRun(row({ temporalRunId: 'r1' }))).toBe(false);
    expect(holdsRunSlot(row({ temporalRunId: 'r1' }))).toBe(true);
    expect(holdsRunSlot(row({ status: 'running' }))).toBe(true);
  });

  it('a child run neither waits for a slot nor takes one (its parent holds one while it waits on the child)', () => {
    const child = row({ parentExecutionId: 'parent' });
    expect(isChildRun(child)).toBe(true);
    expect(isQueuedRun(child)).toBe(false);
    expect(holdsRunSlot(child)).toBe(false);
    expect(holdsRunSlot({ ...child, status: 'running', temporalRunId: 'r2' })).toBe(false);
  });

  it('admits the free slots, never more than are queued, never a negative number', () => {
    expect(runsToAdmit(5, { active: 0, queued: 50 })).toBe(5);
    expect(runsToAdmit(5, { active: 3, queued: 50 })).toBe(2);
    expect(runsToAdmit(5, { active: 5, queued: 50 })).toBe(0);
    expect(runsToAdmit(5, { active: 7, queued: 1 })).toBe(0);
    expect(runsToAdmit(5, { active: 1, queued: 2 })).toBe(2);
    expect(runsToAdmit(5, { active: 0, queued: 0 })).toBe(0);
  });

  it("a schedule's run is started by its firing, never by admission; the firing asks again after 1 s growing to 5 s", () => {
    expect(startedByItsFiring({ type: 'schedule' })).toBe(true);
    for (const type of ['manual', 'api', 'webhook', 'retry', 'mcp'] as const) expect(startedByItsFiring({ type })).toBe(false);
    expect(startedByItsFiring(null)).toBe(false);
    expect([0, 1, 2, 3, 4, 5, 50].map(scheduledSlotWaitMs)).toEqual([1_000, 2_000, 3_000, 4_000, 5_000, 5_000, 5_000]);
  });
});
