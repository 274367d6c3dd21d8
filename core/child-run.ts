// Child executions (DESIGN.md §8 `subflow`, the `workflow` tool): what a run that starts another saved workflow
// as a child decides before the child exists. A run carries the chain of its ancestors' workflow ids, so a
// workflow that would include itself (directly or through others) is refused when its child would start, and so
// is a chain deeper than SUBFLOW_MAX_DEPTH. Pure: the workflow bundle and the activities both import it.

import type { CanvasGraph } from './graph';
import type { GraphProblem } from './validate';

/** A child whose workflow is already running above it. */
export const SUBFLOW_CYCLE = 'SUBFLOW_CYCLE';
/** A child deeper than SUBFLOW_MAX_DEPTH below the run that started the chain. */
export const SUBFLOW_DEPTH = 'SUBFLOW_DEPTH';
/** The child's workflow (or the version asked for) is not one of the caller tenant's. */
export const SUBFLOW_NOT_FOUND = 'SUBFLOW_NOT_FOUND';
/** The child run ended without succeeding. */
export const SUBFLOW_FAILED = 'SUBFLOW_FAILED';

export const DEFAULT_SUBFLOW_MAX_DEPTH = 8;

/** What a child run is asked to be: whose child, from which node (and tool call), of which workflow. */
export interface ChildRunRequest {
  tenantId: string;
  parentExecutionId: string;
  /** The workflow ids of the runs above the child, outermost first, the parent's last. */
  chain: string[];
  nodeId: string;
  /** A workflow tool's call: the round and the provider's call id (a subflow node has none). */
  call?: { round: number; callId: string };
  workflowId: string;
  version?: number;
  inputs: Record<string, unknown>;
}

/** The chain a child of a run of `workflowId` carries: its ancestors' workflow ids and the run's own. */
export function childChain(ancestors: readonly string[] | undefined, workflowId: string): string[] {
  return [...(ancestors ?? []), workflowId];
}

/** Why a child of `chain` cannot be a run of `childWorkflowId`, or null when it may start. */
export function childChainProblem(chain: readonly string[], childWorkflowId: string, maxDepth: number): { code: string; message: string } | null {
  const id = childWorkflowId.toLowerCase();
  if (chain.some((w) => w.toLowerCase() === id)) {
    return { code: SUBFLOW_CYCLE, message: `workflow ${childWorkflowId} would include itself: ${[...chain, childWorkflowId].join(' → ')}` };
  }
  if (chain.length > maxDepth) {
    return { code: SUBFLOW_DEPTH, message: `a child run ${chain.length} levels deep is over the limit of ${maxDepth} (SUBFLOW_MAX_DEPTH): ${[...chain, childWorkflowId].join(' → ')}` };
  }
  return null;
}

/** The text that names a child run's place under its parent, from which its execution id is derived. */
export function childRunKey(request: Pick<ChildRunRequest, 'parentExecutionId' | 'nodeId' | 'call'>): string {
  const call = request.call ? `/round/${request.call.round}/call/${request.call.callId}` : '';
  return `child:${request.parentExecutionId}/node/${request.nodeId}${call}`;
}

/**
 * What a saved workflow can be told at once: its own subflow nodes and workflow tools that run the workflow itself
 * (a longer cycle goes through other workflows, which may change after this one is saved: the start checks those).
 */
export function selfReferences(graph: CanvasGraph, workflowId: string): GraphProblem[] {
  const id = workflowId.toLowerCase();
  const runsSelf = (value: unknown) => typeof value === 'string' && value.toLowerCase() === id;
  return graph.nodes.flatMap((node): GraphProblem[] => {
    const data = node.data ?? {};
    const tools = node.type === 'agent' && Array.isArray(data['tools']) ? (data['tools'] as { type?: unknown; name?: unknown; workflowId?: unknown }[]) : [];
    const problems: GraphProblem[] = [];
    if (node.type === 'subflow' && runsSelf(data['workflowId'])) {
      problems.push({ code: 'INVALID_NODE_CONFIG', nodeId: node.id, message: `subflow node ${node.id} runs this workflow itself, which would never end (${SUBFLOW_CYCLE})` });
    }
    for (const tool of tools) {
      if (tool.type === 'workflow' && runsSelf(tool.workflowId)) {
        problems.push({ code: 'INVALID_NODE_CONFIG', nodeId: node.id, message: `agent ${node.id}: the workflow tool ${String(tool.name)} runs this workflow itself (${SUBFLOW_CYCLE})` });
      }
    }
    return problems;
  });
}
