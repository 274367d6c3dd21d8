// Auto-layout: dagre ranks the graph left to right and we read back the top-left corner of every node.
import dagre from '@dagrejs/dagre';
import type { CanvasEdge, CanvasNode } from '../../../core/graph';

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 72;

export function layoutGraph(nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 80 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  const positions = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const laid = g.node(n.id) as { x: number; y: number } | undefined;
    if (laid) positions.set(n.id, { x: Math.round(laid.x - NODE_WIDTH / 2), y: Math.round(laid.y - NODE_HEIGHT / 2) });
  }
  return positions;
}
