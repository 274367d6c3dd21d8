// The size caps a wave's evaluated texts must fit, applied in one place for both ways a wave is evaluated: by
// the `evaluateNodes` activity in the worker's threads, and in the workflow for inline templates
// (core/inline-evaluation.ts). Pure.
import type { EvaluateNodesInput, NodeEvaluationResult } from './evaluation-protocol';
import { OUTPUT_TOO_LARGE, formatBytes, type OutputLimits } from './limits';

/** One text's outcome: its value and the bytes of its JSON, or why it has none. */
export type FieldOutcome = { ok: true; value: unknown; bytes: number } | { ok: false; code: string; message: string };

/** The outcome of one text whose value is `bytes` long, above the one-value cap. */
export function valueTooLarge(bytes: number, maxBytes: number): Extract<FieldOutcome, { ok: false }> {
  const size = Number.isFinite(bytes) ? formatBytes(bytes) : 'more than V8 can hold';
  return { ok: false, code: OUTPUT_TOO_LARGE, message: `the value is ${size}, above the ${formatBytes(maxBytes)} limit (NODE_OUTPUT_MAX_BYTES=${maxBytes})` };
}

/**
 * Each node's result from its texts' outcomes (`fields[i]` belongs to `input.nodes[i]`): the first failed text
 * fails the node; a node over its cap, over the run's budget or over the run's outputs cap fails with
 * OUTPUT_TOO_LARGE; and once the results reach one node's cap the rest come back `deferred`, so one result
 * stays one modest payload.
 */
export function settleWave(input: EvaluateNodesInput, fields: Array<Array<[string, FieldOutcome]>>, limits: OutputLimits): Record<string, NodeEvaluationResult> {
  const { nodeOutputMaxBytes, runOutputsMaxBytes } = limits;
  const results: Record<string, NodeEvaluationResult> = {};
  let returnedBytes = 0;
  let runBytes = input.usedBytes.run;
  let outputsBytes = input.usedBytes.outputs;
  input.nodes.forEach((node, i) => {
    const outcomes = fields[i] ?? [];
    const failed = outcomes.find(([, o]) => !o.ok)?.[1];
    if (failed && !failed.ok) {
      results[node.nodeId] = { status: 'failed', code: failed.code, message: failed.message };
      return;
    }
    const bytes = outcomes.reduce((sum, [, o]) => sum + (o.ok ? o.bytes : 0), 0);
    const overCap = bytes > nodeOutputMaxBytes;
    if (overCap || runBytes + bytes > runOutputsMaxBytes) {
      const message = overCap
        ? `the node's values are ${formatBytes(bytes)}, above the ${formatBytes(nodeOutputMaxBytes)} limit (NODE_OUTPUT_MAX_BYTES=${nodeOutputMaxBytes})`
        : `the run's node outputs would reach ${formatBytes(runBytes + bytes)}, above the ${formatBytes(runOutputsMaxBytes)} limit (RUN_OUTPUTS_MAX_BYTES=${runOutputsMaxBytes})`;
      results[node.nodeId] = { status: 'failed', code: OUTPUT_TOO_LARGE, message };
      return;
    }
    if (node.runOutput && outputsBytes + bytes > nodeOutputMaxBytes) {
      results[node.nodeId] = {
        status: 'failed',
        code: OUTPUT_TOO_LARGE,
        message: `the run's outputs would reach ${formatBytes(outputsBytes + bytes)}, above the ${formatBytes(nodeOutputMaxBytes)} limit (NODE_OUTPUT_MAX_BYTES=${nodeOutputMaxBytes})`,
      };
      return;
    }
    if (returnedBytes > 0 && returnedBytes + bytes > nodeOutputMaxBytes) {
      results[node.nodeId] = { status: 'deferred' };
      return;
    }
    returnedBytes += bytes;
    runBytes += bytes;
    if (node.runOutput) outputsBytes += bytes;
    const values = Object.fromEntries(outcomes.map(([name, o]) => [name, o.ok ? o.value : undefined]));
    results[node.nodeId] = { status: 'evaluated', values, bytes };
  });
  return results;
}
