// The `evaluateNodes` activity (a local activity of canvasRun): evaluates the texts of one wave of ready
// nodes in the evaluation processes and answers per node. A limit reached fails that node, not the activity;
// the activity itself fails only when the pool does (an infrastructure error, retried by Temporal).
import { settleWave, type FieldOutcome } from '../../core/evaluation-budget';
import type { EvaluateNodesInput, EvaluateNodesOutput } from '../../core/evaluation-protocol';
import type { ThreadOutcome } from './evaluate-text';
import type { EvaluationPool } from './pool';

export interface EvaluationActivityDeps {
  evaluation: EvaluationPool;
}

export function createEvaluationActivities(deps: EvaluationActivityDeps) {
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

      // The caps are the same whether a wave is evaluated here or inline in the workflow (core/evaluation-budget.ts).
      const fields = outcomes.map((node) =>
        node.map(([name, o]): [string, FieldOutcome] => [name, o.ok ? { ok: true, value: o.json !== null ? (JSON.parse(o.json) as unknown) : undefined, bytes: o.bytes } : o]),
      );
      const results = settleWave(input, fields, deps.evaluation.limits);
      return { results };
    },
  };
}
