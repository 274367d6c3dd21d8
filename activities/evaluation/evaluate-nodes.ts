// The `evaluateNodes` activity (a local activity of canvasRun): evaluates the texts of one wave of ready
// nodes in the evaluation processes and answers per node. A limit reached fails that node, not the activity;
// the activity itself fails only when the pool does (an infrastructure error, retried by Temporal).
import type { EvaluateNodesInput, EvaluateNodesOutput, NodeEvaluationResult } from '../../core/evaluation-protocol';
import { OUTPUT_TOO_LARGE, formatBytes } from '../../core/limits';
import type { ThreadOutcome } from './evaluate-text';
import type { EvaluationPool } from './pool';

export interface EvaluationActivityDeps {
  evaluation: EvaluationPool;
}

export function createEvaluationActivities(deps: EvaluationActivityDeps) {
  const { nodeOutputMaxBytes, runOutputsMaxBytes } = deps.evaluation.limits;

  return {
    async evaluateNodes(input: EvaluateNodesInput): Promise<EvaluateNodesOutput> {
      // Every text of the wave at once: the pool queues what its processes cannot take yet.
      const outcomes = await Promise.all(
        input.nodes.map(async (node) => {
          const fields = Object.entries(node.fields);
          const evaluated = await Promise.all(fields.map(([, field]) => deps.evaluation.evaluate(field, input.scope, input.nowMs)));
          return fields.map(([name], i): [string, ThreadOutcome] => [name, evaluated[i]!]);
        }),
      );

      const results: Record<string, NodeEvaluationResult> = {};
      let returnedBytes = 0;
      let runBytes = input.usedBytes.run;
      let outputsBytes = input.usedBytes.outputs;
      input.nodes.forEach((node, i) => {
        const fields = outcomes[i]!;
        const failed = fields.find(([, o]) => !o.ok)?.[1];
        if (failed && !failed.ok) {
          results[node.nodeId] = { status: 'failed', code: failed.code, message: failed.message };
          return;
        }
        const bytes = fields.reduce((sum, [, o]) => sum + (o.ok ? o.bytes : 0), 0);
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
        // This result is one payload in the run's history: beyond one node's cap, the rest waits for the next call.
        if (returnedBytes > 0 && returnedBytes + bytes > nodeOutputMaxBytes) {
          results[node.nodeId] = { status: 'deferred' };
          return;
        }
        returnedBytes += bytes;
        runBytes += bytes;
        if (node.runOutput) outputsBytes += bytes;
        const values = Object.fromEntries(fields.map(([name, o]) => [name, o.ok && o.json !== null ? (JSON.parse(o.json) as unknown) : undefined]));
        results[node.nodeId] = { status: 'evaluated', values, bytes };
      });
      return { results };
    },
  };
}
