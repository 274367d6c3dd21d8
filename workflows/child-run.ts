// A child execution as the canvas run's driver carries it out (a subflow node, a workflow tool's call): an
// activity records the child's row (core/child-run.ts, activities/child-run.ts), then the child runs as a
// Temporal child workflow of this run, `canvasRun` like any run, under the workflow id the API would give it.
// Started in the caller's cancellation scope, a cancelled parent cancels the child and waits until the child
// has recorded it; the child's row is its own: how it ends is written by the child.
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  ParentClosePolicy,
  isCancellation,
  proxyActivities,
  startChild,
} from '@temporalio/workflow';
import type { createChildRunActivities } from '../activities/child-run';
import { childChain, SUBFLOW_FAILED, type ChildRunRequest } from '../core/child-run';
import { rootCauseMessage } from '../core/error-cause';
import { CANVAS_RUN_WORKFLOW, type CanvasRunInput, type CanvasRunResult } from '../core/run-protocol';
import { tesseraSearchAttributes } from '../server/temporal/search-attributes';
import { NodeFailed } from './node-failed';

// Recording the row retries like a progress write (a database restart must not fail the node); its refusals
// (a cycle, too deep, not found, inputs that do not fit) are non-retryable and fail the node at once.
const { prepareChildRun, recordChildRunId } = proxyActivities<ReturnType<typeof createChildRunActivities>>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
});

export interface ChildRunSpec {
  nodeId: string;
  call?: { round: number; callId: string };
  workflowId: string;
  version?: number;
  inputs: Record<string, unknown>;
}

/**
 * Runs the child and answers its outputs; `started` hears its execution id once it runs. A refusal or a child
 * that does not succeed throws NodeFailed (code and message for the node or the model); a cancel of the
 * caller's scope throws the cancellation.
 */
export async function runChildExecution(parent: CanvasRunInput, spec: ChildRunSpec, started: (childExecutionId: string, childWorkflowId: string) => void): Promise<Record<string, unknown>> {
  const request: ChildRunRequest = {
    tenantId: parent.tenantId,
    parentExecutionId: parent.executionId,
    chain: childChain(parent.ancestors, parent.plan.workflowId),
    nodeId: spec.nodeId,
    ...(spec.call ? { call: spec.call } : {}),
    workflowId: spec.workflowId,
    ...(spec.version !== undefined ? { version: spec.version } : {}),
    inputs: spec.inputs,
  };
  let prepared;
  try {
    prepared = await prepareChildRun(request);
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw new NodeFailed(spec.nodeId, failureCode(err) ?? SUBFLOW_FAILED, rootCauseMessage(err));
  }
  const child = await startChild<(input: CanvasRunInput) => Promise<CanvasRunResult>>(CANVAS_RUN_WORKFLOW, {
    workflowId: prepared.temporalWorkflowId,
    // The child runs under its parent's cap on parallel nodes: from the parent's input, so a replay gives the same.
    args: [parent.maxParallelNodes !== undefined ? { ...prepared.run, maxParallelNodes: parent.maxParallelNodes } : prepared.run],
    cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    typedSearchAttributes: tesseraSearchAttributes({ tenantId: parent.tenantId, workflowId: prepared.canvasWorkflowId, executionId: prepared.executionId }),
  });
  started(prepared.executionId, prepared.canvasWorkflowId);
  // Not on the child's path: the row's run id is for reads that ask Temporal, the child records its own progress.
  void CancellationScope.nonCancellable(() => recordChildRunId({ tenantId: parent.tenantId, executionId: prepared.executionId, runId: child.firstExecutionRunId })).catch(() => undefined);
  try {
    const { outputs } = await child.result();
    return outputs;
  } catch (err) {
    // The parent's own cancel ends here as a cancellation; a child cancelled by itself is a failed child.
    if (isCancellation(err) && CancellationScope.current().consideredCancelled) throw err;
    const why = err instanceof ChildWorkflowFailure && isCancellation(err) ? 'was cancelled' : `failed: ${rootCauseMessage(err)}`;
    throw new NodeFailed(spec.nodeId, SUBFLOW_FAILED, `child run ${prepared.executionId} of workflow ${spec.workflowId} ${why}`);
  }
}

function failureCode(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
  }
  return undefined;
}
