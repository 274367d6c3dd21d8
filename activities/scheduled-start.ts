// The activities of a scheduled start (workflows/scheduled-start.ts): record the execution row a schedule's
// firing starts, as an ordinary run of the workflow's current version with `trigger: {type: "schedule"}`,
// and store the run id of the canvasRun child once it started. Recording is idempotent on the firing's
// Temporal run, so a retried activity never records a second run.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { compileGraph, GraphInvalidError } from '../core/compile';
import { temporalWorkflowId } from '../core/events';
import { checkRunInputs } from '../core/inputs';
import type { CanvasRunInput } from '../core/run-protocol';
import { ExecutionRepository, WorkflowRepository, type TenantScope } from '../db';
import { ScheduleRepository } from '../db/repositories/schedules';

export interface RecordScheduledRunInput {
  tenantId: string;
  scheduleId: string;
  /** The firing's Temporal workflow and run ids (one per firing): the execution's idempotency key. */
  firingId: string;
}

/** What the scheduled start needs to start the run as its child; null when the schedule is gone. */
export type RecordedScheduledRun = { temporalWorkflowId: string; canvasWorkflowId: string; run: CanvasRunInput } | null;

export function createScheduledStartActivities(deps: { scope: TenantScope }) {
  const { scope } = deps;
  const schedules = new ScheduleRepository(scope);
  const workflows = new WorkflowRepository(scope);
  const executions = new ExecutionRepository(scope);

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
            let plan;
            try {
              plan = compileGraph(saved.graph, { workflowId: w.id, workflowVersion: w.currentVersion });
            } catch (err) {
              if (err instanceof GraphInvalidError) throw ApplicationFailure.nonRetryable(`version ${w.currentVersion} of workflow ${w.id} has validation problems`, 'GRAPH_INVALID');
              throw err;
            }
            const checked = checkRunInputs(plan.inputs, s.inputs);
            if (!checked.ok) throw ApplicationFailure.nonRetryable(`the schedule's inputs do not match the trigger of version ${w.currentVersion}`, 'INPUTS_INVALID');
            const id = randomUUID();
            return executions.insert({
              id,
              workflowId: w.id,
              workflowVersion: w.currentVersion,
              inputs: checked.inputs,
              plan,
              idempotencyKey,
              temporalWorkflowId: temporalWorkflowId(input.tenantId, id),
              startedBy: `schedule:${s.id}`,
              trigger: { type: 'schedule', scheduleId: s.id },
            });
          })());
        if (!recorded) return null;
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
