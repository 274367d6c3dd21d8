// What the canvas workflow asks the worker's evaluation activity for, once per wave of ready nodes: the
// texts of those nodes to evaluate over the run's scope; and what it gets back, per node.
import { conversationEvaluation } from './conversation';
import type { PlanNode } from './plan';
import type { TemplateScope } from './template';

/** `condition` is an expression whose value is taken as a boolean. */
export type EvaluationKind = 'template' | 'expression' | 'condition';

export interface FieldEvaluation {
  kind: EvaluationKind;
  source: string;
}

export interface NodeEvaluationRequest {
  nodeId: string;
  /** The node's texts by name: `{value}` for a transform, condition or output, `{prompt, system?}` for an agent. */
  fields: Record<string, FieldEvaluation>;
  /** The values go into the run's `outputs` map (an output node), which travels as one payload. */
  runOutput?: boolean;
}

export interface EvaluateNodesInput {
  scope: TemplateScope;
  /** The run's clock for `$now()`/`$millis()` (the workflow's, so a replay sees the same instant). */
  nowMs: number;
  nodes: NodeEvaluationRequest[];
  /** What the run already holds: bytes of everything its nodes produced or rendered, and of its outputs map. */
  usedBytes: { run: number; outputs: number };
}

export type NodeEvaluationResult =
  | { status: 'evaluated'; values: Record<string, unknown>; bytes: number }
  /** `code` is EXPRESSION_LIMIT or OUTPUT_TOO_LARGE (core/limits.ts), or EVALUATION_ERROR for a wrong text. */
  | { status: 'failed'; code: string; message: string }
  /** Evaluated, but left out so the result stays one payload: ask again in the next call. */
  | { status: 'deferred' };

export interface EvaluateNodesOutput {
  results: Record<string, NodeEvaluationResult>;
}

/** The code of a text that evaluates to an error of its own (a type error, a missing helper): not a limit. */
export const EVALUATION_ERROR = 'EVALUATION_ERROR';

/**
 * The texts `node` needs evaluated: a transform's, condition's or output's value when it runs, an agent's
 * prompt and system, a conversation's topic and systems, or an approval's title and instructions when it is
 * launched. A trigger needs none.
 */
export function nodeEvaluation(node: PlanNode): NodeEvaluationRequest | null {
  const template = (source: string): FieldEvaluation => ({ kind: 'template', source });
  switch (node.type) {
    case 'trigger':
      return null;
    case 'transform':
      return {
        nodeId: node.id,
        fields: { value: 'template' in node.data ? template(node.data.template) : { kind: 'expression', source: node.data.expression } },
      };
    case 'condition':
      return { nodeId: node.id, fields: { value: { kind: 'condition', source: node.data.expression } } };
    case 'output':
      return { nodeId: node.id, fields: { value: template(node.data.value) }, runOutput: true };
    case 'agent':
      return {
        nodeId: node.id,
        fields: { prompt: template(node.data.prompt), ...(node.data.system !== undefined ? { system: template(node.data.system) } : {}) },
      };
    case 'subflow':
      // One field per input of the child, named as the input.
      return { nodeId: node.id, fields: Object.fromEntries(Object.entries(node.data.inputs).map(([name, source]) => [name, template(source)])) };
    case 'approval':
      return {
        nodeId: node.id,
        fields: { title: template(node.data.title), ...(node.data.instructions !== undefined ? { instructions: template(node.data.instructions) } : {}) },
      };
    case 'conversation':
      return conversationEvaluation(node.id, node.data);
    case 'map':
      // Only the list: each item's inputs are evaluated by the map's coordinator (workflows/map-run.ts), a segment at a time.
      return { nodeId: node.id, fields: { items: { kind: 'expression', source: node.data.items } } };
  }
}
