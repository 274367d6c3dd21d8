// The API's door to Temporal Schedules. Every schedule id is built from the caller's tenant id
// (`tenant/<tenantId>/schedule/<id>`), so no call can reach another tenant's schedule. A schedule fires
// the `scheduledStart` workflow (workflows/scheduled-start.ts), which records and starts the run.
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleSpec as TemporalScheduleSpec } from '@temporalio/client';
import { SCHEDULE_NEXT_RUNS_SHOWN, type ScheduleSpec } from '../../core/api-views';
import type { ScheduledStartInput } from '../../workflows/scheduled-start';
import { tesseraSearchAttributes } from './search-attributes';

/** The workflow type a firing starts (workflows/scheduled-start.ts). */
const SCHEDULED_START_WORKFLOW = 'scheduledStart';

export function temporalScheduleId(tenantId: string, scheduleId: string): string {
  return `tenant/${tenantId}/schedule/${scheduleId}`;
}

/** What Temporal says of a schedule now. */
export interface ScheduleState {
  paused: boolean;
  nextRunAt: string | null;
  /** The coming firings, soonest first (none while paused). */
  nextRunTimes: string[];
  /** Firings so far (by the spec and by trigger-now). */
  actionsTaken: number;
}

function temporalSpec(spec: ScheduleSpec): TemporalScheduleSpec {
  return 'cron' in spec ? { cronExpressions: [spec.cron], timezone: spec.timezone } : { intervals: [{ every: `${spec.intervalSeconds}s` }] };
}

export class ScheduleClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  private handle(tenantId: string, scheduleId: string) {
    return this.client.schedule.getHandle(temporalScheduleId(tenantId, scheduleId));
  }

  async create(input: { tenantId: string; scheduleId: string; workflowId: string; spec: ScheduleSpec; paused: boolean }): Promise<void> {
    const args: [ScheduledStartInput] = [{ tenantId: input.tenantId, scheduleId: input.scheduleId }];
    await this.client.schedule.create({
      scheduleId: temporalScheduleId(input.tenantId, input.scheduleId),
      spec: temporalSpec(input.spec),
      action: {
        type: 'startWorkflow',
        workflowType: SCHEDULED_START_WORKFLOW,
        workflowId: `${temporalScheduleId(input.tenantId, input.scheduleId)}/firing`,
        taskQueue: this.taskQueue,
        args,
        typedSearchAttributes: tesseraSearchAttributes({ tenantId: input.tenantId, workflowId: input.workflowId, executionId: input.scheduleId }),
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      state: { paused: input.paused },
    });
  }

  async describe(tenantId: string, scheduleId: string): Promise<ScheduleState | null> {
    try {
      const d = await this.handle(tenantId, scheduleId).describe();
      const next = d.state.paused ? [] : d.info.nextActionTimes.slice(0, SCHEDULE_NEXT_RUNS_SHOWN).map((t) => t.toISOString());
      return { paused: d.state.paused, nextRunAt: next[0] ?? null, nextRunTimes: next, actionsTaken: d.info.numActionsTaken };
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return null;
      throw err;
    }
  }

  async setSpec(tenantId: string, scheduleId: string, spec: ScheduleSpec): Promise<void> {
    await this.handle(tenantId, scheduleId).update((previous) => ({ ...previous, spec: temporalSpec(spec) }));
  }

  async setPaused(tenantId: string, scheduleId: string, paused: boolean): Promise<void> {
    const h = this.handle(tenantId, scheduleId);
    if (paused) await h.pause('paused through the Tessera API');
    else await h.unpause('resumed through the Tessera API');
  }

  /** Fires once now, whether or not the schedule is paused, even while an earlier firing's run is open. */
  async trigger(tenantId: string, scheduleId: string): Promise<void> {
    await this.handle(tenantId, scheduleId).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  }

  /** Deletes the schedule; one already gone is not an error. */
  async delete(tenantId: string, scheduleId: string): Promise<void> {
    try {
      await this.handle(tenantId, scheduleId).delete();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
}
