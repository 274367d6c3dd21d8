// The checks a connection must pass while it is being dragged, so a bad edge is refused at the handle rather
// than reported by the validator after the drop: the same rules as core/validate, applied to one new edge.
import { nodeOutHandles, type CanvasEdge, type CanvasNode } from '../../../core/graph';
import { nodeTypeInfo } from './node-catalog';

export interface ProposedConnection {
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

/** Why the connection is refused, or null when it may be made. */
export function connectionProblem(nodes: readonly CanvasNode[], edges: readonly CanvasEdge[], c: ProposedConnection): string | null {
  const source = nodes.find((n) => n.id === c.source);
  const target = nodes.find((n) => n.id === c.target);
  if (!source || !target) return 'both ends must be nodes on the canvas';
  if (c.source === c.target) return 'a node cannot connect to itself';
  const targetInfo = nodeTypeInfo(target.type);
  if (!targetInfo?.hasInput) return `a ${target.type} has no input`;
  const sourceInfo = nodeTypeInfo(source.type);
  if (!sourceInfo) return `unknown node type ${source.type}`;
  const handle = c.sourceHandle ?? null;
  if (!nodeOutHandles(source.type, source.data).includes(handle)) {
    return `a ${source.type} has no out handle ${handle ?? '(default)'}`;
  }
  if (edges.some((e) => e.source === c.source && e.target === c.target && (e.sourceHandle ?? null) === handle)) {
    return 'these nodes are already connected';
  }
  if (reaches(edges, c.target, c.source)) return 'this connection would make a cycle';
  return null;
}

/** True when `to` can be reached from `from` along the edges. */
function reaches(edges: readonly CanvasEdge[], from: string, to: string): boolean {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const seen = new Set<string>([from]);
  const queue = [from];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    if (id === to) return true;
    for (const t of next.get(id) ?? []) {
      if (!seen.has(t)) {
        seen.add(t);
        queue.push(t);
      }
    }
  }
  return false;
}
