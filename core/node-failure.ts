// What a node that can fail does once it has finally failed (after its retries; a non-retryable failure at
// once), by its `onError` (DESIGN.md §8): `fail` ends the run as it always did; `continue` and `branch` make
// the node succeed with the error as its output, `branch` taking the `error` handle so only its error edges
// run. The run machine (core/run-machine.ts) asks this for every fallible node type alike.
import { ERROR_HANDLE, ON_ERROR_MODES, type OnErrorMode } from './graph';
import type { PlanNode } from './plan';

/** The output of a node whose failure was handled: what its downstream templates see as `nodes.<id>.error`. */
export interface HandledFailureOutput {
  error: { code: string; message: string };
}

export type FailureOutcome =
  | { kind: 'fail' }
  /** The node succeeds with `output`; `handle` is `error` under `branch`, null (its normal edges) under `continue`. */
  | { kind: 'handled'; mode: Exclude<OnErrorMode, 'fail'>; output: HandledFailureOutput; handle: string | null };

/** A node's `onError`; a node type without the field, or a plan from before it, fails the run. */
export function onErrorOf(node: PlanNode): OnErrorMode {
  const mode = (node.data as { onError?: unknown }).onError;
  return (ON_ERROR_MODES as readonly unknown[]).includes(mode) ? (mode as OnErrorMode) : 'fail';
}

export function failureOutcome(node: PlanNode, failure: { code: string; message: string }): FailureOutcome {
  const mode = onErrorOf(node);
  if (mode === 'fail') return { kind: 'fail' };
  const output: HandledFailureOutput = { error: { code: failure.code, message: failure.message } };
  return { kind: 'handled', mode, output, handle: mode === 'branch' ? ERROR_HANDLE : null };
}
