// The run plan: what the compiler makes of a valid canvas and what the `canvasRun` workflow interprets.
// It is the workflow's input, so a run never changes when the canvas is edited later.
import type {
  AgentData,
  ApprovalData,
  ConditionData,
  InputSpec,
  OutputData,
  TransformData,
  TriggerData,
} from './graph';

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
  | (PlanNodeBase & { type: 'output'; data: OutputData });

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
}
