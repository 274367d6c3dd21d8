// The activities of a scheduled start (workflows/scheduled-start.ts): record the execution row a schedule's
// firing starts, as an ordinary run of the workflow's current version with `trigger: {type: "schedule"}`,
// and store the run id of the canvasRun child once it started. Recording is idempotent on the firing's
// Temporal run, so a retried activity never records a second run. The run waits its turn in the tenant's share
// like any other (docs/decisions.md "Fair share between tenants"): it is recorded queued unless it is first in
// line for a free slot, and the firing asks `scheduledRunSlot` until it holds one (or was cancelled meanwhile).
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { TERMINAL_EXECUTION_STATUSES } from '../core/events';
import { DEFAULT_RUN_LIMITS, type OutputLimits } from '../core/limits';
import { DEFAULT_RUNS_MAX_CONCURRENT_PER_TENANT } from '../core/run-admission';
import { prepareRunStart } from '../core/run-start';
import type { CanvasRunInput } from '../core/run-protocol';
import { ExecutionRepository, WorkflowRepository, type TenantScope } from '../db';
import { ScheduleRepository } from '../db/repositories/schedules';
import { RunQueueRepository } from '../db/repositories/run-queue';

export interface RecordScheduledRunInput {
  tenantId: string;
  scheduleId: string;
  /** The firing's Temporal workflow and run ids (one per firing): the execution's idempotency key. */
  firingId: string;
  /**
   * Set by firings that wait for a slot (workflows/scheduled-start.ts SCHEDULED_RUN_QUEUE_PATCH): the run is
   * queued unless a slot is free for it. Without it (a firing older than the queue) the run is admitted at once.
   */
  waitsForSlot?: boolean;
}

/**
 * What the scheduled start needs to start the run as its child, and whether the run holds a slot (`admitted`;
 * when false the firing waits for one); null when the schedule is gone.
 */
export type RecordedScheduledRun = { temporalWorkflowId: string; canvasWorkflowId: string; run: CanvasRunInput; admitted: boolean } | null;

/** A queued scheduled run, asked again: it holds a slot now, still waits, or ended meanwhile (cancelled). */
export type ScheduledRunSlot = 'admitted' | 'queued' | 'ended';

export function createScheduledStartActivities(deps: { scope: TenantScope; runInputsMaxBytes?: number; outputLimits?: OutputLimits; runsMaxConcurrentPerTenant?: number }) {
  const { scope } = deps;
  const runInputsMaxBytes = deps.runInputsMaxBytes ?? DEFAULT_RUN_LIMITS.runInputsMaxBytes;
  const limit = deps.runsMaxConcurrentPerTenant ?? DEFAULT_RUNS_MAX_CONCURRENT_PER_TENANT;
  const schedules = new ScheduleRepository(scope);
  const workflows = new WorkflowRepository(scope);
  const executions = new ExecutionRepository(scope);
  const runQueue = new RunQueueRepository(scope);

  return {
    async recordScheduledRun(input: RecordScheduledRunInput): Promise<RecordedScheduledRun> {
      return scope.run(input.tenantId, async () => {
        const idempotencyKey = `schedule:${input.scheduleId}:${input.firingId}`;
        const existing = await executions.findByIdempotencyKey(idempotencyKey);
        const recorded =
          existing ??
          (await (async () => {
            const s = await schedules.get(input.scheduleId);
            if (!s) return null; // deleted between the firing and now: nothing to run
            const w = await workflows.find(s.workflowId);
            const saved = w ? await workflows.version(w.id, w.currentVersion) : null;
            if (!w || !saved) return null;
            const prepared = prepareRunStart({
              tenantId: input.tenantId,
              executionId: randomUUID(),
              workflowId: w.id,
              version: w.currentVersion,
              graph: saved.graph,
              inputs: s.inputs,
              runInputsMaxBytes,
              outputLimits: deps.outputLimits ?? DEFAULT_RUN_LIMITS,
              idempotencyKey,
              startedBy: `schedule:${s.id}`,
              trigger: { type: 'schedule', scheduleId: s.id },
            });
            if (!prepared.ok) throw ApplicationFailure.nonRetryable(`the schedule's run was not started: ${prepared.problem.message}`, prepared.problem.code);
            return executions.insert(prepared.record);
          })());
        if (!recorded) return null;
        // The same locked decision as the API's: a slot only when one is free and no older run of the tenant waits.
        let admitted = true;
        if (input.waitsForSlot) admitted = await runQueue.admitIfFirst(input.tenantId, recorded.id, limit);
        else await runQueue.markAdmitted(recorded.id);
        return {
          temporalWorkflowId: recorded.temporalWorkflowId,
          canvasWorkflowId: recorded.workflowId,
          run: { tenantId: input.tenantId, executionId: recorded.id, plan: recorded.plan, inputs: recorded.inputs },
          admitted,
        };
      });
    },

    /**
     * Asks again for a queued scheduled run: admitted meanwhile by the API (a run of the tenant ended), or now first
     * in line for a free slot; `ended` when it was cancelled while queued (the firing then starts nothing).
     */
    async scheduledRunSlot(input: { tenantId: string; executionId: string }): Promise<ScheduledRunSlot> {
      return scope.run(input.tenantId, async () => {
        if (await runQueue.admitIfFirst(input.tenantId, input.executionId, limit)) return 'admitted';
        const row = await executions.find(input.executionId);
        return !row || TERMINAL_EXECUTION_STATUSES.includes(row.status) ? 'ended' : 'queued';
      });
    },

    async recordScheduledRunId(input: { tenantId: string; executionId: string; runId: string }): Promise<void> {
      await scope.run(input.tenantId, () => executions.setTemporalRunId(input.executionId, input.runId));
    },
  };
}
