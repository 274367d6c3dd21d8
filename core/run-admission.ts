// Fair share between tenants (issue 12 item 7, docs/decisions.md "Fair share between tenants"): a tenant has at
// most RUNS_MAX_CONCURRENT_PER_TENANT top-level runs holding a slot; the others wait as `pending` rows, queued in
// creation order, and are admitted as slots free. These are the rules; db/repositories/run-queue.ts writes them
// as SQL under a per-tenant lock and server/services/run-admission.ts drives them.
import type { ExecutionTrigger } from './api-views';
import { TERMINAL_EXECUTION_STATUSES, type ExecutionStatus } from './events';

/** 20: a team's burst of runs goes through at once, one tenant's flood of starts cannot fill the workers. */
export const DEFAULT_RUNS_MAX_CONCURRENT_PER_TENANT = 20;

/** Every API process sweeps this often for queued runs with free slots and admitted runs that never started. */
export const RUN_ADMISSION_SWEEP_MS = 2_000;

/** An admitted run still without a Temporal run this long after its admission lost its start (a crash): it is started again. */
export const LOST_START_AFTER_MS = 10_000;

/** Redis channel on which a worker says a tenant's run ended, so an API admits that tenant's next queued runs. */
export const RUN_ENDED_CHANNEL = 'tessera:run-ended';

/** What the admission rules read of an execution row. */
export interface AdmissionRow {
  status: ExecutionStatus;
  /** When the run got its slot; null while it waits for one. */
  admittedAt: Date | string | null;
  temporalRunId: string | null;
  parentExecutionId: string | null;
}

/**
 * A child execution (subflow, map item, workflow tool) never takes a slot and never waits for one: its parent
 * holds a slot while it waits on the child, so queueing the child behind the parent's own tenant could deadlock.
 */
export function isChildRun(row: Pick<AdmissionRow, 'parentExecutionId'>): boolean {
  return row.parentExecutionId !== null && row.parentExecutionId !== undefined;
}

/** Waiting for a slot: a top-level run that is pending, was never admitted and never reached Temporal. */
export function isQueuedRun(row: AdmissionRow): boolean {
  return !isChildRun(row) && row.status === 'pending' && !row.admittedAt && !row.temporalRunId;
}

/**
 * Holding a slot: a top-level run that is not over and not queued. A run some path started without asking
 * admission (it has a Temporal run) holds one too, so the count never undercounts what Temporal runs.
 */
export function holdsRunSlot(row: AdmissionRow): boolean {
  return !isChildRun(row) && !TERMINAL_EXECUTION_STATUSES.includes(row.status) && !isQueuedRun(row);
}

/** How many of the oldest queued runs start now: the free slots, never more than are queued. */
export function runsToAdmit(limit: number, occupancy: { active: number; queued: number }): number {
  return Math.max(0, Math.min(limit - occupancy.active, occupancy.queued));
}

/**
 * A schedule's run is started by its firing (workflows/scheduled-start.ts starts it as its own child once it holds
 * a slot, so the overlap policy sees the firing running while the run waits and runs): admission only gives it
 * its slot and never starts it, so the run is never started twice under one workflow id.
 */
export function startedByItsFiring(trigger: Pick<ExecutionTrigger, 'type'> | null | undefined): boolean {
  return trigger?.type === 'schedule';
}

/** How long a firing whose run is queued waits before it asks again: 1 s, 1 s longer each time, at most 5 s. */
export function scheduledSlotWaitMs(asked: number): number {
  return Math.min(1_000 * (asked + 1), 5_000);
}
