// The pure heart of the canvas interpreter (DESIGN.md §2): given a plan and each node's state, which nodes run
// next and which are skipped. The Temporal workflow calls it after every change, so it must stay deterministic.
import { TERMINAL_NODE_STATUSES, type NodeStatus } from './events';
import { ERROR_HANDLE } from './graph';
import type { PlanEdge, PlanNode, RunPlan } from './plan';

export interface NodeRunState {
  status: NodeStatus;
  /** The out handle the node took (a condition's `true`/`false`, an approval's `approved`/`rejected`). */
  handle?: string | null;
}

export type RunStates = Readonly<Record<string, NodeRunState | undefined>>;

export interface NextSteps {
  /** Pending nodes to start now, in plan order. */
  ready: string[];
  /** Pending nodes none of whose inputs can ever be active, in plan order, including nodes skipped only because others are. */
  skip: string[];
}

export function isNodeTerminal(state: NodeRunState | undefined): boolean {
  return state !== undefined && TERMINAL_NODE_STATUSES.includes(state.status);
}

/**
 * Active: the source succeeded and, when the edge names a handle, took that handle. A node that failed into
 * its `error` handle (onError: branch) takes only its error edges, never its unnamed ones.
 */
export function isEdgeActive(edge: PlanEdge, states: RunStates): boolean {
  const source = states[edge.source];
  if (source?.status !== 'succeeded') return false;
  if (source.handle === ERROR_HANDLE) return edge.sourceHandle === ERROR_HANDLE;
  return edge.sourceHandle === null || edge.sourceHandle === (source.handle ?? null);
}

/** Settled: the source will not change any more, so the edge is known to be active or not. */
export function isEdgeSettled(edge: PlanEdge, states: RunStates): boolean {
  return isNodeTerminal(states[edge.source]);
}

/**
 * For each pending node (a node without a state counts as pending) whose incoming edges are all settled:
 * ready when one of them is active, skipped otherwise. Skips are applied to a scratch copy until nothing
 * changes, so a whole chain behind an untaken branch is skipped in one call.
 */
export function nextSteps(plan: RunPlan, states: RunStates): NextSteps {
  const scratch: Record<string, NodeRunState | undefined> = { ...states };
  const ready = new Set<string>();
  const skip = new Set<string>();
  let changed = true;
  // Plan order is topological, so one pass normally suffices; looping keeps this right for any order.
  while (changed) {
    changed = false;
    for (const node of plan.nodes) {
      if (ready.has(node.id) || skip.has(node.id)) continue;
      const status = scratch[node.id]?.status ?? 'pending';
      if (status !== 'pending') continue;
      if (node.incoming.length === 0) {
        ready.add(node.id);
        continue;
      }
      if (!node.incoming.every((edge) => isEdgeSettled(edge, scratch))) continue;
      if (node.incoming.some((edge) => isEdgeActive(edge, scratch))) {
        ready.add(node.id);
      } else {
        skip.add(node.id);
        scratch[node.id] = { status: 'skipped' };
        changed = true;
      }
    }
  }
  return {
    ready: plan.nodes.filter((node) => ready.has(node.id)).map((node) => node.id),
    skip: plan.nodes.filter((node) => skip.has(node.id)).map((node) => node.id),
  };
}

/** Every node of the plan has reached a terminal status. */
export function isRunComplete(plan: RunPlan, states: RunStates): boolean {
  return plan.nodes.every((node) => isNodeTerminal(states[node.id]));
}

/** 20: a wide fan-out still runs in waves, and one run cannot take every activity slot of its tenant alone. */
export const DEFAULT_RUN_MAX_PARALLEL_NODES = 20;

/**
 * Nodes that occupy a place of the run's parallel cap while they run: they call activities or child runs. Pure
 * nodes finish in their evaluation and approvals wait on a person, so neither takes a place.
 */
export function holdsParallelPlace(node: PlanNode): boolean {
  return node.type === 'agent' || node.type === 'conversation' || node.type === 'subflow' || node.type === 'map';
}

/**
 * The ready nodes that start now when at most `maxParallel` place-holding nodes run at once and `occupied` run
 * already: every node that holds no place, and place-holders in plan order while places are free. The others
 * stay pending and are ready again at the next step, once a running node ends. No cap (null) starts them all.
 */
export function withinParallelCap(plan: RunPlan, ready: readonly string[], occupied: number, maxParallel: number | null): string[] {
  if (maxParallel === null) return [...ready];
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  let free = maxParallel - occupied;
  return ready.filter((id) => {
    const node = byId.get(id);
    if (!node || !holdsParallelPlace(node)) return true;
    if (free <= 0) return false;
    free -= 1;
    return true;
  });
}
