// Execution retention (RETENTION_DAYS, docs/operations.md "Retention"): what the purge of old runs is allowed to
// remove, and the names of the system schedule and workflow that run it. Pure: the clock comes from the caller.
import { SYSTEM_TEMPORAL_ID_PREFIX, TERMINAL_EXECUTION_STATUSES, type ExecutionStatus } from './events';

/** RETENTION_DAYS unset or 0: runs are kept forever and no purge is scheduled. */
export const RETENTION_OFF = 0;

/** The one Temporal Schedule of the purge; outside every tenant's `tenant/<id>/` prefix, so no tenant lists or reaches it. */
export const RETENTION_SCHEDULE_ID = `${SYSTEM_TEMPORAL_ID_PREFIX}retention`;
export const RETENTION_SWEEP_WORKFLOW = 'retentionSweep';

/** How often the schedule fires: often enough that each firing has little to do. */
export const RETENTION_SWEEP_EVERY = '1 hour';

/** At most this many event rows, and this many execution rows, are deleted by one activity (one transaction). */
export const DEFAULT_RETENTION_BATCH_SIZE = 500;
/** Tenants asked for per page. */
export const RETENTION_TENANT_PAGE = 100;
/** Batches one workflow run does before it continues as new, so its history stays short. */
export const DEFAULT_RETENTION_BATCHES_PER_RUN = 200;

/** The statuses of a run that may be purged: finished ones. Pending, running and waiting runs never are. */
export const PURGEABLE_EXECUTION_STATUSES: readonly ExecutionStatus[] = TERMINAL_EXECUTION_STATUSES;

const DAY_MS = 86_400_000;

/** Runs that finished before this instant are past retention. */
export function retentionCutoff(now: Date, retentionDays: number): Date {
  if (!Number.isInteger(retentionDays) || retentionDays <= RETENTION_OFF) throw new Error(`retention needs a positive whole number of days, not ${retentionDays}`);
  return new Date(now.getTime() - retentionDays * DAY_MS);
}

/** Where a sweep of one tenant stands: after this root run (by finish time, then id), or at the start. */
export interface RetentionCursor {
  at: string;
  id: string;
}

/** What one purge batch did; `more` is true while the tenant may still hold runs past retention after `cursor`. */
export interface RetentionBatch {
  /** Top-level runs removed (their child runs are counted in `executions`). */
  runs: number;
  executions: number;
  events: number;
  more: boolean;
  cursor: RetentionCursor | null;
}
