// The run plan: what the compiler makes of a valid canvas and what the `canvasRun` workflow interprets.
// It is the workflow's input, so a run never changes when the canvas is edited later.
import type {
  AgentData,
  ApprovalData,
  ConditionData,
  ConversationData,
  InputSpec,
  MapData,
  OutputData,
  SubflowData,
  TransformData,
  TriggerData,
} from './graph';
import type { OutputLimits } from './limits';

/** An incoming edge as the interpreter needs it: active when `source` succeeded and took `sourceHandle` (if set). */
export interface PlanEdge {
  edgeId: string;
  source: string;
  sourceHandle: string | null;
}

interface PlanNodeBase {
  id: string;
  incoming: PlanEdge[];
}

export type PlanNode =
  | (PlanNodeBase & { type: 'trigger'; data: TriggerData })
  | (PlanNodeBase & { type: 'agent'; data: AgentData })
  | (PlanNodeBase & { type: 'transform'; data: TransformData })
  | (PlanNodeBase & { type: 'condition'; data: ConditionData })
  | (PlanNodeBase & { type: 'approval'; data: ApprovalData })
  | (PlanNodeBase & { type: 'subflow'; data: SubflowData })
  | (PlanNodeBase & { type: 'output'; data: OutputData })
  | (PlanNodeBase & { type: 'conversation'; data: ConversationData })
  | (PlanNodeBase & { type: 'map'; data: MapData });

/** A node of an earlier run whose recorded result a retry keeps (core/retry-plan.ts): it starts finished. */
export interface ReusedNode {
  status: 'succeeded' | 'skipped';
  output: unknown;
  /** The handle it took (a condition's branch, an approval's decision); null for every other node. */
  handle: string | null;
}

export interface RunPlan {
  /** Plan format version, so a worker can refuse a plan it does not understand. */
  planVersion: 1;
  workflowId: string;
  workflowVersion: number;
  triggerId: string;
  inputs: Record<string, InputSpec>;
  /** Nodes in a topological order (the trigger first). */
  nodes: PlanNode[];
  outputNodeIds: string[];
  /**
   * The caps its node values meet, as the starter's settings said when the run started (so a replay never
   * depends on today's settings); with them the workflow may render inline templates itself. Absent on runs
   * started before they were recorded: those evaluate every text in the worker's evaluation activity.
   */
  limits?: OutputLimits;
  /** A retry's reused nodes and the execution they come from (POST /executions/:id/retry); absent on every other run. */
  reuse?: { from: string; nodes: Record<string, ReusedNode> };
}
