// What a Temporal Schedule of a workflow starts at each firing: record the run's execution row, start the
// run (canvasRun) as a child, and wait for it, so the schedule's overlap policy (skip by default) applies to
// the runs themselves. The child is abandoned rather than cancelled if this workflow ends first: a run,
// once recorded, belongs to its execution row, not to the firing. A run over the tenant's share waits queued
// (docs/decisions.md "Fair share between tenants"): the firing waits with durable timers, asking for its slot,
// and starts the child once it holds one, so a firing whose run waits still counts as running for the overlap.
import { ParentClosePolicy, patched, proxyActivities, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import type { createScheduledStartActivities } from '../activities/scheduled-start';
import { scheduledSlotWaitMs } from '../core/run-admission';
import { CANVAS_RUN_WORKFLOW } from '../core/run-protocol';
import { tesseraSearchAttributes } from '../server/temporal/search-attributes';

const { recordScheduledRun, recordScheduledRunId, scheduledRunSlot } = proxyActivities<ReturnType<typeof createScheduledStartActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

/** Firings from this version on wait for a slot of the tenant's share; older ones (replayed) start at once. */
export const SCHEDULED_RUN_QUEUE_PATCH = 'scheduled-run-queue';

export interface ScheduledStartInput {
  tenantId: string;
  scheduleId: string;
}

export async function scheduledStart(input: ScheduledStartInput): Promise<{ executionId: string | null }> {
  // Temporal names a firing's workflow after its second, so a trigger-now in the second of a firing reuses
  // the (closed) workflow id: the run id tells them apart.
  const { workflowId, runId } = workflowInfo();
  const waitsForSlot = patched(SCHEDULED_RUN_QUEUE_PATCH);
  const recorded = await recordScheduledRun({ ...input, firingId: `${workflowId}/${runId}`, ...(waitsForSlot ? { waitsForSlot } : {}) });
  if (!recorded) return { executionId: null };
  if (waitsForSlot && !recorded.admitted) {
    for (let asked = 0; ; asked += 1) {
      await sleep(scheduledSlotWaitMs(asked));
      const slot = await scheduledRunSlot({ tenantId: input.tenantId, executionId: recorded.run.executionId });
      if (slot === 'admitted') break;
      // Cancelled while queued: the row says so already; nothing was started.
      if (slot === 'ended') return { executionId: recorded.run.executionId };
    }
  }
  const child = await startChild(CANVAS_RUN_WORKFLOW, {
    workflowId: recorded.temporalWorkflowId,
    args: [recorded.run],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: tesseraSearchAttributes({ tenantId: input.tenantId, workflowId: recorded.canvasWorkflowId, executionId: recorded.run.executionId }),
  });
  await recordScheduledRunId({ tenantId: input.tenantId, executionId: recorded.run.executionId, runId: child.firstExecutionRunId });
  // How the run ends is its own row's business; the firing only waits for it to be over.
  await child.result().catch(() => undefined);
  return { executionId: recorded.run.executionId };
}
