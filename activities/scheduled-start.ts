// The activities of a scheduled start (workflows/scheduled-start.ts): record the execution row a schedule's
// firing starts, as an ordinary run of the workflow's current version with `trigger: {type: "schedule"}`,
// and store the run id of the canvasRun child once it started. Recording is idempotent on the firing's
// Temporal run, so a retried activity never records a second run.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { DEFAULT_RUN_LIMITS } from '../core/limits';
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
}

/** What the scheduled start needs to start the run as its child; null when the schedule is gone. */
export type RecordedScheduledRun = { temporalWorkflowId: string; canvasWorkflowId: string; run: CanvasRunInput } | null;

export function createScheduledStartActivities(deps: { scope: TenantScope; runInputsMaxBytes?: number }) {
  const { scope } = deps;
  const runInputsMaxBytes = deps.runInputsMaxBytes ?? DEFAULT_RUN_LIMITS.runInputsMaxBytes;
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
              idempotencyKey,
              startedBy: `schedule:${s.id}`,
              trigger: { type: 'schedule', scheduleId: s.id },
            });
            if (!prepared.ok) throw ApplicationFailure.nonRetryable(`the schedule's run was not started: ${prepared.problem.message}`, prepared.problem.code);
            return executions.insert(prepared.record);
          })());
        if (!recorded) return null;
        // Not queued (run admission): the firing starts the run as its child right away; it counts against the tenant's share.
        await runQueue.markAdmitted(recorded.id);
        return {
          temporalWorkflowId: recorded.temporalWorkflowId,
          canvasWorkflowId: recorded.workflowId,
          run: { tenantId: input.tenantId, executionId: recorded.id, plan: recorded.plan, inputs: recorded.inputs },
        };
      });
    },

    async recordScheduledRunId(input: { tenantId: string; executionId: string; runId: string }): Promise<void> {
      await scope.run(input.tenantId, () => executions.setTemporalRunId(input.executionId, input.runId));
    },
  };
}
