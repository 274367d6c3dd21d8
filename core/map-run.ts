// A map node (DESIGN.md §8 `map`): one child run of a saved workflow per item of a list, at most `concurrency`
// at a time. The parent run starts ONE coordinator workflow (workflows/map-run.ts) that starts the item runs
// and continues-as-new every MAP_ITEMS_PER_RUN items, so neither its history nor the parent's grows with the
// list. This module is what the parent's machine, the coordinator and its activities share. Pure.
import { childRunKey } from './child-run';

/** The node's list did not evaluate to an array. */
export const MAP_ITEMS_NOT_ARRAY = 'MAP_ITEMS_NOT_ARRAY';
/** The list is longer than MAP_MAX_ITEMS. */
export const MAP_TOO_MANY_ITEMS = 'MAP_TOO_MANY_ITEMS';
/** An item's run failed under `onItemFailure: "fail"`. */
export const MAP_ITEM_FAILED = 'MAP_ITEM_FAILED';
/** The coordinator ended without an answer (a cause without a code of its own). */
export const MAP_FAILED = 'MAP_FAILED';
/** An item's `itemInput` did not give an object (or failed to evaluate): that item fails. */
export const MAP_ITEM_INPUT_INVALID = 'MAP_ITEM_INPUT_INVALID';

export const DEFAULT_MAP_MAX_ITEMS = 10_000;
/**
 * Items one coordinator run starts before it continues as new. An item costs its run about a dozen history
 * events (the row's activity, the child's start and end, the run id's activity, workflow tasks), so 200 items
 * keep a run near 2,500 events: far under Temporal's 10,240-event warning and its 51,200-event limit.
 */
export const MAP_ITEMS_PER_RUN = 200;
/** How often (workflow time) the coordinator writes a `map.progress` event while items run. */
export const MAP_PROGRESS_INTERVAL_MS = 2_000;
/** Characters of an item failure's message the node keeps (a list of 10,000 failures must still fit its output). */
export const MAP_FAILURE_MESSAGE_CHARS = 500;

export type MapItemFailureMode = 'fail' | 'skip';

export interface MapItemFailure {
  index: number;
  error: { code: string; message: string };
}

/**
 * The node's output: `results[i]` is item i's run outputs; a skipped failure's slot is null (the list keeps
 * the items' order and length), and the failure is in `failures`.
 */
export interface MapOutput {
  results: unknown[];
  failures: MapItemFailure[];
}

/** How far a map has come: what a continued coordinator run carries, and what `map.progress` shows. */
export interface MapProgress {
  /** The index of the first item not yet started. */
  next: number;
  done: number;
  failed: number;
  failures: MapItemFailure[];
}

/** The coordinator's input (workflows/map-run.ts); a continued run gets the same with its progress. */
export interface MapRunInput {
  tenantId: string;
  parentExecutionId: string;
  /** The child chain of the parent's children (core/child-run.ts childChain): ancestors and the parent's workflow. */
  chain: string[];
  nodeId: string;
  workflowId: string;
  version?: number;
  itemInput: string;
  concurrency: number;
  onItemFailure: MapItemFailureMode;
  /** The list, as the parent evaluated it (bounded by NODE_OUTPUT_MAX_BYTES like any node's values). */
  items: unknown[];
  /** The parent run's inputs: `itemInput` sees them. */
  inputs: Record<string, unknown>;
  progress: MapProgress;
}

/** The Temporal workflow id of a map node's coordinator: one per node of a run. */
export function mapRunWorkflowId(parentTemporalWorkflowId: string, nodeId: string): string {
  return `${parentTemporalWorkflowId}/map/${nodeId}`;
}

/** An item run's place under its parent, as a child run's call (core/child-run.ts childRunKey derives its id from it). */
export function mapItemCall(index: number): { round: number; callId: string } {
  return { round: 0, callId: `item-${index}` };
}

/** The key item `index`'s execution id is derived from (activities/child-run.ts derivedUuid). */
export function mapItemRunKey(parentExecutionId: string, nodeId: string, index: number): string {
  return childRunKey({ parentExecutionId, nodeId, call: mapItemCall(index) });
}

/** Why `items` cannot be mapped, or null. */
export function mapItemsProblem(items: unknown, maxItems: number): { code: string; message: string } | null {
  if (!Array.isArray(items)) {
    const kind = items === null || items === undefined ? 'nothing' : typeof items;
    return { code: MAP_ITEMS_NOT_ARRAY, message: `the items expression must give an array, it gave ${kind}` };
  }
  if (items.length > maxItems) {
    return { code: MAP_TOO_MANY_ITEMS, message: `the items expression gave ${items.length} items, above the limit of ${maxItems} (MAP_MAX_ITEMS=${maxItems})` };
  }
  return null;
}

/** An item's failure as the node keeps it: the message shortened so thousands of them stay small. */
export function mapItemFailure(index: number, code: string, message: string): MapItemFailure {
  return { index, error: { code, message: message.length > MAP_FAILURE_MESSAGE_CHARS ? `${message.slice(0, MAP_FAILURE_MESSAGE_CHARS)}…` : message } };
}
