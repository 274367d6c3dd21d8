// What a retry of a finished run keeps (POST /executions/:id/retry, DESIGN.md §8): every node that is not
// downstream of the node the retry starts from keeps the result the old run recorded, when that result is
// final (succeeded, or skipped on a branch not taken), the node is the same in the plan that runs now, and
// everything it stands on is kept too; every other node runs again. Pure: the API computes it once, the run
// machine seeds it (core/run-machine.ts), so a replayed retry never asks the database again.
import type { NodeStatus } from './events';
import type { PlanNode, ReusedNode, RunPlan } from './plan';

/** A node of the old run as its row and its events recorded it. */
export interface RecordedNode {
  status: NodeStatus;
  output: unknown;
  /** The handle its `node.succeeded` event says it took (null when none, or for a node that did not succeed). */
  handle: string | null;
}

/** Nodes whose result decides which edge is taken: without a recorded handle they cannot be kept. */
const BRANCHING_TYPES: readonly PlanNode['type'][] = ['condition', 'approval'];

/** The nodes the old run failed at, in plan order: where a retry starts when it names no node. */
export function failedNodes(plan: RunPlan, recorded: Readonly<Record<string, RecordedNode>>): string[] {
  return plan.nodes.filter((n) => recorded[n.id]?.status === 'failed').map((n) => n.id);
}

/** `from` and every node reachable from them along the plan's edges. */
export function downstreamOf(plan: RunPlan, from: readonly string[]): Set<string> {
  const reached = new Set(from);
  // Plan order is topological: a node's sources come before it, so one pass reaches everything.
  for (const node of plan.nodes) {
    if (node.incoming.some((e) => reached.has(e.source))) reached.add(node.id);
  }
  return reached;
}

/**
 * The nodes of `plan` a retry from `from` keeps, with the old run's results. `before` is the plan the old run
 * ran: on another version (`latest`) a node whose type, data or incoming edges changed runs again, and so does
 * everything after it. A node that failed, was cancelled or never ran is not kept: it runs again, with what
 * follows it, even when it is not downstream of `from` (a sibling the failure cancelled).
 */
export function reusedNodes(
  before: RunPlan,
  plan: RunPlan,
  recorded: Readonly<Record<string, RecordedNode>>,
  from: readonly string[],
): Record<string, ReusedNode> {
  const rerun = downstreamOf(plan, from);
  const old = new Map(before.nodes.map((n) => [n.id, n]));
  const kept: Record<string, ReusedNode> = {};
  for (const node of plan.nodes) {
    const r = recorded[node.id];
    const previous = old.get(node.id);
    if (rerun.has(node.id) || !r || !previous || !sameNode(previous, node)) continue;
    if (!node.incoming.every((e) => kept[e.source] !== undefined)) continue;
    if (r.status === 'skipped') kept[node.id] = { status: 'skipped', output: null, handle: null };
    else if (r.status === 'succeeded' && !(BRANCHING_TYPES.includes(node.type) && r.handle === null)) {
      kept[node.id] = { status: 'succeeded', output: r.output ?? null, handle: r.handle };
    }
  }
  return kept;
}

/** Why a retry cannot start: `status` is what the API answers. */
export interface RetryProblem {
  code: 'NOTHING_TO_RETRY' | 'UNKNOWN_NODE';
  status: 409 | 422;
  message: string;
  details: Record<string, unknown>;
}

export interface RetryRequest {
  /** The run retried, the plan it ran and what its nodes recorded. */
  executionId: string;
  before: RunPlan;
  recorded: Readonly<Record<string, RecordedNode>>;
  /** The plan the retry runs: the same version's, or the latest's. */
  plan: RunPlan;
  version: 'original' | 'latest';
  fromNodeId?: string;
}

/** Where a retry starts (the named node, else the nodes that failed) and what it keeps, or why it cannot. */
export function planRetry(r: RetryRequest): { ok: true; from: string[]; reuse: NonNullable<RunPlan['reuse']> } | { ok: false; problem: RetryProblem } {
  const inPlan = new Set(r.plan.nodes.map((n) => n.id));
  const from = r.fromNodeId !== undefined ? [r.fromNodeId] : failedNodes(r.before, r.recorded);
  if (!from.length) {
    return {
      ok: false,
      problem: { code: 'NOTHING_TO_RETRY', status: 409, message: `execution ${r.executionId} did not fail at a node: say which node to retry from (fromNodeId)`, details: {} },
    };
  }
  const missing = from.filter((id) => !inPlan.has(id));
  if (missing.length) {
    const where = r.version === 'latest' ? `version ${r.plan.workflowVersion} (the latest) of the workflow` : `execution ${r.executionId}`;
    return {
      ok: false,
      problem: { code: 'UNKNOWN_NODE', status: 422, message: `${where} has no node ${missing.join(', ')} to retry from`, details: { nodeIds: missing } },
    };
  }
  return { ok: true, from, reuse: { from: r.executionId, nodes: reusedNodes(r.before, r.plan, r.recorded, from) } };
}

/** The same node in two plans: type, data and incoming edges (by source and handle; edge ids do not matter). */
function sameNode(a: PlanNode, b: PlanNode): boolean {
  const edges = (n: PlanNode) => n.incoming.map((e) => `${e.source}\u0000${e.sourceHandle ?? ''}`).sort();
  return a.type === b.type && canonicalJson(a.data) === canonicalJson(b.data) && canonicalJson(edges(a)) === canonicalJson(edges(b));
}

/** JSON with object keys sorted: the stored plan (jsonb) and a fresh compile may order keys differently. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  );
}
