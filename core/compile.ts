// The compiler from a canvas document to the run plan the `canvasRun` workflow interprets (core/plan.ts):
// validated, data parsed with its defaults, nodes in topological order, canvas-only fields dropped.
import { canvasGraphSchema, NODE_DATA_SCHEMAS } from './graph';
import type { CanvasGraph, CanvasNode, NodeType } from './graph';
import { AppError } from './errors';
import type { PlanEdge, PlanNode, RunPlan } from './plan';
import { validateGraph } from './validate';
import type { GraphProblem } from './validate';

/** The graph does not validate; `problems` lists every reason (the API answers 422 with them). */
export class GraphInvalidError extends AppError {
  readonly problems: GraphProblem[];

  constructor(problems: GraphProblem[]) {
    const first = problems[0]?.message ?? 'unknown problem';
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('GRAPH_INVALID', 422, `The workflow graph is invalid: ${first}${more}`, { problems });
    this.problems = problems;
  }
}

export interface CompileMeta {
  workflowId: string;
  workflowVersion: number;
}

export function compileGraph(graph: CanvasGraph, meta: CompileMeta): RunPlan {
  const validation = validateGraph(graph);
  if (!validation.valid) throw new GraphInvalidError(validation.errors);
  // Normalised through the document schema (data defaults to {}, unknown keys dropped); the validator checks
  // more than the schema does, so this cannot fail for a graph that validated: the guard is for the types.
  const parsed = canvasGraphSchema.safeParse(graph);
  if (!parsed.success) {
    throw new GraphInvalidError(parsed.error.issues.map((issue) => ({ code: 'INVALID_DOCUMENT', message: `${issue.path.join('.')}: ${issue.message}` })));
  }
  return buildPlan(parsed.data, meta);
}

function buildPlan(graph: CanvasGraph, meta: CompileMeta): RunPlan {

  const incoming = new Map<string, PlanEdge[]>(graph.nodes.map((node) => [node.id, []]));
  for (const edge of graph.edges) {
    incoming.get(edge.target)?.push({ edgeId: edge.id, source: edge.source, sourceHandle: edge.sourceHandle ?? null });
  }
  const nodes = topologicalOrder(graph).map((node) => planNode(node, incoming.get(node.id) ?? []));
  const trigger = nodes.find((node) => node.type === 'trigger');
  // validateGraph guarantees exactly one trigger; this only narrows the type.
  if (trigger?.type !== 'trigger') throw new GraphInvalidError([{ code: 'TRIGGER_COUNT', message: 'the graph has no trigger' }]);

  return {
    planVersion: 1,
    workflowId: meta.workflowId,
    workflowVersion: meta.workflowVersion,
    triggerId: trigger.id,
    inputs: trigger.data.inputs,
    nodes,
    outputNodeIds: nodes.filter((node) => node.type === 'output').map((node) => node.id),
  };
}

/**
 * Kahn's algorithm, always taking the ready node that comes first in the document: the order is stable under
 * edits elsewhere in the graph, and the trigger (the only node without incoming edges) comes first.
 */
function topologicalOrder(graph: CanvasGraph): CanvasNode[] {
  const position = new Map(graph.nodes.map((node, index) => [node.id, index]));
  const remaining = new Map(graph.nodes.map((node) => [node.id, 0]));
  const successors = new Map<string, string[]>(graph.nodes.map((node) => [node.id, []]));
  for (const edge of graph.edges) {
    remaining.set(edge.target, (remaining.get(edge.target) ?? 0) + 1);
    successors.get(edge.source)?.push(edge.target);
  }
  const ready = new MinIndexQueue();
  for (const [id, count] of remaining) if (count === 0) ready.push(position.get(id) ?? 0);

  const ordered: CanvasNode[] = [];
  for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
    const node = graph.nodes[next];
    if (!node) continue;
    ordered.push(node);
    for (const target of successors.get(node.id) ?? []) {
      const left = (remaining.get(target) ?? 0) - 1;
      remaining.set(target, left);
      if (left === 0) ready.push(position.get(target) ?? 0);
    }
  }
  return ordered;
}

function planNode(node: CanvasNode, incoming: PlanEdge[]): PlanNode {
  const base = { id: node.id, incoming };
  // One case per type so each plan node's `data` has its type's parsed shape (defaults applied).
  const type = node.type as NodeType;
  switch (type) {
    case 'trigger':
      return { ...base, type, data: NODE_DATA_SCHEMAS.trigger.parse(node.data) };
    case 'agent':
      return { ...base, type, data: NODE_DATA_SCHEMAS.agent.parse(node.data) };
    case 'transform':
      return { ...base, type, data: NODE_DATA_SCHEMAS.transform.parse(node.data) };
    case 'condition':
      return { ...base, type, data: NODE_DATA_SCHEMAS.condition.parse(node.data) };
    case 'approval':
      return { ...base, type, data: NODE_DATA_SCHEMAS.approval.parse(node.data) };
    case 'output':
      return { ...base, type, data: NODE_DATA_SCHEMAS.output.parse(node.data) };
    case 'subflow':
      return { ...base, type, data: NODE_DATA_SCHEMAS.subflow.parse(node.data) };
    case 'conversation':
      return { ...base, type, data: NODE_DATA_SCHEMAS.conversation.parse(node.data) };
    case 'map':
      return { ...base, type, data: NODE_DATA_SCHEMAS.map.parse(node.data) };
  }
}

/** A binary min-heap of document positions. */
class MinIndexQueue {
  private readonly heap: number[] = [];

  push(value: number): void {
    const heap = this.heap;
    heap.push(value);
    let at = heap.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent]! <= heap[at]!) break;
      [heap[parent], heap[at]] = [heap[at]!, heap[parent]!];
      at = parent;
    }
  }

  pop(): number | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    heap[0] = last;
    let at = 0;
    for (;;) {
      const left = at * 2 + 1;
      const right = left + 1;
      let smallest = at;
      if (left < heap.length && heap[left]! < heap[smallest]!) smallest = left;
      if (right < heap.length && heap[right]! < heap[smallest]!) smallest = right;
      if (smallest === at) break;
      [heap[smallest], heap[at]] = [heap[at]!, heap[smallest]!];
      at = smallest;
    }
    return top;
  }
}
