// The coordinator of a map node (core/map-run.ts), a child workflow of the canvas run: it starts one child run
// per item (workflows/child-run.ts, as a subflow node's), at most `concurrency` at a time, a segment of
// MAP_ITEMS_PER_RUN items per workflow run, then continues as new carrying only its progress. Progress goes
// to the parent's event log as `map.progress` every few seconds; at the end the node's output is read from
// the item runs' rows. Cancelled (the parent was), it cancels the item runs in flight and waits for them.
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  continueAsNew,
  executeChild,
  isCancellation,
  proxyActivities,
} from '@temporalio/workflow';
import { childChain } from '../core/child-run';
import { temporalWorkflowId } from '../core/events';
import type { Command } from '../core/run-machine';
import { tesseraSearchAttributes } from '../server/temporal/search-attributes';
import type { TesseraActivities } from '../activities';
import { rootCauseMessage } from '../core/error-cause';
import { NODE_OUTPUT_MAX_BYTES_CEILING, OUTPUT_TOO_LARGE, formatBytes, jsonBytes } from '../core/limits';
import { MAP_FAILED, MAP_ITEM_FAILED, MAP_ITEMS_PER_RUN, mapRunWorkflowId, MAP_PROGRESS_INTERVAL_MS, mapItemCall, mapItemFailure, type MapItemFailure, type MapOutput, type MapRunInput } from '../core/map-run';
import { entry } from '../core/run-ledger';
import type { CanvasRunInput } from '../core/run-protocol';
import type { RunPlan } from '../core/plan';
import { runChildExecution } from './child-run';
import { NodeFailed } from './node-failed';

// Evaluation and the read-back: a failure of the pool or the database is worth retrying; their refusals are not.
const { mapItemInputs, mapResults } = proxyActivities<TesseraActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
});

// Progress writes retry like the canvas run's, bounded in time; one lost is only a stale count.
const { recordProgress } = proxyActivities<TesseraActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
});

export async function mapRun(input: MapRunInput): Promise<MapOutput> {
  const { tenantId, parentExecutionId, nodeId, items } = input;
  const total = items.length;
  const progress = { ...input.progress, failures: [...input.progress.failures] };
  const from = progress.next;
  const until = Math.min(total, from + MAP_ITEMS_PER_RUN);

  let writes = Promise.resolve();
  let reportedAt = -Infinity;
  const report = (force = false) => {
    const now = Date.now();
    if (!force && now - reportedAt < MAP_PROGRESS_INTERVAL_MS) return;
    reportedAt = now;
    const ledger = entry.mapProgress(nodeId, { done: progress.done, failed: progress.failed, total }, new Date(now).toISOString());
    writes = writes.then(() => CancellationScope.nonCancellable(() => recordProgress({ tenantId, executionId: parentExecutionId, events: ledger.events })).catch(() => undefined));
  };
  if (from === 0) report(true);

  const segment = await mapItemInputs({ itemInput: input.itemInput, inputs: input.inputs, items: items.slice(from, until), from, total, nowMs: Date.now() });
  // What runChildExecution needs of the parent: who it is, and the chain its children carry.
  const parent = {
    tenantId,
    executionId: parentExecutionId,
    ancestors: input.chain.slice(0, -1),
    plan: { workflowId: input.chain[input.chain.length - 1] ?? '' } as RunPlan,
    inputs: {},
  } satisfies CanvasRunInput;

  let stopping: MapItemFailure | null = null;
  const items$ = new CancellationScope();
  const failed = (failure: MapItemFailure) => {
    progress.failed += 1;
    progress.failures.push(failure);
    if (input.onItemFailure === 'fail' && !stopping) {
      stopping = failure;
      items$.cancel();
    }
  };
  const runItem = async (index: number): Promise<void> => {
    const prepared = segment[index - from]!;
    if ('failure' in prepared) return failed(prepared.failure);
    const spec = { nodeId, call: mapItemCall(index), workflowId: input.workflowId, ...(input.version !== undefined ? { version: input.version } : {}), inputs: prepared.inputs };
    try {
      await runChildExecution(parent, spec, () => undefined);
      progress.done += 1;
    } catch (err) {
      if (isCancellation(err)) {
        if (stopping) return;
        throw err;
      }
      failed(mapItemFailure(index, err instanceof NodeFailed ? err.code : MAP_ITEM_FAILED, rootCauseMessage(err)));
    }
    report();
  };

  let cursor = from;
  const lane = async () => {
    while (cursor < until && !stopping) await runItem(cursor++);
  };
  // Settled, not all: a cancelled map waits until every item run in flight has recorded its cancel.
  const lanes = await items$.run(() => Promise.allSettled(Array.from({ length: Math.min(input.concurrency, until - from) }, lane)));
  const broken = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected' && !(isCancellation(l.reason) && stopping));
  if (broken) throw broken.reason;
  progress.next = until;
  report(true);
  await writes;

  const first = stopping as MapItemFailure | null;
  if (first) {
    throw ApplicationFailure.nonRetryable(`item ${first.index} failed (onItemFailure: fail): ${first.error.message}`, MAP_ITEM_FAILED, { failure: first });
  }
  // A continued run carries the failures: beyond what any node output may hold, the map could never answer.
  const failureBytes = jsonBytes(progress.failures);
  if (failureBytes > NODE_OUTPUT_MAX_BYTES_CEILING) {
    throw ApplicationFailure.nonRetryable(`the map's failures alone are ${formatBytes(failureBytes)}, above any NODE_OUTPUT_MAX_BYTES`, OUTPUT_TOO_LARGE);
  }
  if (until < total) {
    return continueAsNew<typeof mapRun>({ ...input, progress });
  }
  return mapResults({ tenantId, parentExecutionId, nodeId, total, failures: progress.failures });
}

/**
 * The parent's side (canvas-run.ts carries out `runMap` with it): the coordinator as a child workflow of the
 * run, cancelled with it. Answers the node's output; a map that fails throws NodeFailed with the map's code.
 */
export async function runMapNode(parent: CanvasRunInput, command: Extract<Command, { type: 'runMap' }>): Promise<MapOutput> {
  const { tenantId, executionId } = parent;
  const input: MapRunInput = {
    tenantId,
    parentExecutionId: executionId,
    chain: childChain(parent.ancestors, parent.plan.workflowId),
    nodeId: command.nodeId,
    workflowId: command.workflowId,
    ...(command.version !== undefined ? { version: command.version } : {}),
    itemInput: command.itemInput,
    concurrency: command.concurrency,
    onItemFailure: command.onItemFailure,
    items: command.items,
    inputs: parent.inputs,
    progress: { next: 0, done: 0, failed: 0, failures: [] },
  };
  try {
    return await executeChild(mapRun, {
      workflowId: mapRunWorkflowId(temporalWorkflowId(tenantId, executionId), command.nodeId),
      args: [input],
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: tesseraSearchAttributes({ tenantId, workflowId: parent.plan.workflowId, executionId }),
    });
  } catch (err) {
    if (isCancellation(err) && CancellationScope.current().consideredCancelled) throw err;
    throw new NodeFailed(command.nodeId, failureType(err) ?? MAP_FAILED, `map node ${command.nodeId}: ${rootCauseMessage(err)}`);
  }
}

function failureType(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
  }
  return undefined;
}
