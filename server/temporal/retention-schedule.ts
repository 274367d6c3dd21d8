// Tessera's system schedule of the retention sweep (core/retention.ts, docs/operations.md "Retention"), put in
// place at every API start: created when missing, brought to this process's RETENTION_DAYS when present, deleted
// when retention is off. Its id is outside every tenant's prefix and it has no row in any tenant's schedules
// table, so no tenant lists, triggers or deletes it.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptionsAction, type ScheduleSpec } from '@temporalio/client';
import { RETENTION_OFF, RETENTION_SCHEDULE_ID, RETENTION_SWEEP_EVERY, RETENTION_SWEEP_WORKFLOW } from '../../core/retention';
import type { RetentionSweepInput } from '../../workflows/retention-sweep';

export interface RetentionScheduleOptions {
  taskQueue: string;
  /** RETENTION_DAYS; 0 (RETENTION_OFF) deletes the schedule. */
  retentionDays: number;
  /** Another id under `system/` (tests, so that suites sharing a Temporal server never meet). */
  scheduleId?: string;
  /** Passed to every sweep (tests use small batches). */
  batchSize?: number;
  batchesPerRun?: number;
}

export type RetentionScheduleState = 'created' | 'updated' | 'off';

/** The workflow id a firing of the schedule starts (Temporal appends the firing's time). */
export function retentionSweepWorkflowId(scheduleId: string): string {
  return `${scheduleId}/sweep`;
}

export async function ensureRetentionSchedule(client: Client, opts: RetentionScheduleOptions): Promise<RetentionScheduleState> {
  const scheduleId = opts.scheduleId ?? RETENTION_SCHEDULE_ID;
  const handle = client.schedule.getHandle(scheduleId);
  if (opts.retentionDays === RETENTION_OFF) {
    try {
      await handle.delete();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    return 'off';
  }
  const args: [RetentionSweepInput] = [
    {
      retentionDays: opts.retentionDays,
      ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
      ...(opts.batchesPerRun !== undefined ? { batchesPerRun: opts.batchesPerRun } : {}),
    },
  ];
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: RETENTION_SWEEP_WORKFLOW,
    workflowId: retentionSweepWorkflowId(scheduleId),
    taskQueue: opts.taskQueue,
    args,
  };
  const spec: ScheduleSpec = { intervals: [{ every: RETENTION_SWEEP_EVERY }] };
  try {
    // A sweep still going when the next firing comes is left to finish; the firing is skipped.
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  // Another API process, or an earlier start, made it: this one's settings win, as the last deploy's should.
  await handle.update((previous) => ({ ...previous, spec, action }));
  return 'updated';
}
