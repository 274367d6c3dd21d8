// The contract between the API and the `canvasRun` workflow: its name, input, query, update and signal
// names and payloads. Both sides import it from here, so neither imports the other.
import type { NodeStatus, ExecutionStatus } from './events';
import type { RunPlan } from './plan';
import type { RecordedDecision } from './approval';

export const CANVAS_RUN_WORKFLOW = 'canvasRun';
export const STATE_QUERY = 'state';
export const DECIDE_UPDATE = 'decide';
export const DECISION_SIGNAL = 'decision';

/** A client identity or reason Temporal recorded (free text any client chose) is cut to this many characters. */
export const TEMPORAL_TEXT_MAX_CHARS = 200;

/** Such a text as Tessera keeps it: cut, or null when Temporal recorded none. */
export function temporalText(value: string | null | undefined): string | null {
  return value ? value.slice(0, TEMPORAL_TEXT_MAX_CHARS) : null;
}

export const SEARCH_ATTRIBUTES = { tenantId: 'TenantId', workflowId: 'TesseraWorkflowId', executionId: 'ExecutionId' } as const;

export interface CanvasRunInput {
  tenantId: string;
  executionId: string;
  plan: RunPlan;
  inputs: Record<string, unknown>;
  /** A child execution's chain: the workflow ids of the runs above it, outermost first (core/child-run.ts). */
  ancestors?: string[];
  /**
   * RUN_MAX_PARALLEL_NODES of whoever started the run (core/scheduler.ts withinParallelCap): it rides with the input
   * so a replay never depends on the settings of the worker it replays on. Absent: no cap, as before the setting.
   */
  maxParallelNodes?: number;
}

export interface CanvasRunResult {
  outputs: Record<string, unknown>;
}

export interface RunStateView {
  status: ExecutionStatus;
  nodes: Record<string, { status: NodeStatus; attempts: number; handle?: string | null }>;
  outputs: Record<string, unknown>;
  approvals?: Record<string, { status: string; decisions: number }>;
}

/** What the `decide` update answers: the approval's status after the decision. */
export interface ApprovalDecisionResult {
  nodeId: string;
  status: 'pending' | 'approved' | 'rejected';
  decisions: RecordedDecision[];
}
