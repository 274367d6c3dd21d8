// The shapes the REST API answers with (DESIGN.md §4), as the browser reads them.
import type { CanvasGraph } from '../../../core/graph';
import type { GraphProblem } from '../../../core/validate';

export type Role = 'owner' | 'admin' | 'editor' | 'viewer';

export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
}

export interface SessionTenant {
  id: string;
  slug: string;
  name: string;
}

export interface AuthResponse {
  accessToken: string;
  refreshToken: string;
  user: SessionUser;
  tenant: SessionTenant;
}

export interface WorkflowView {
  id: string;
  name: string;
  description: string;
  version: number;
  graph: CanvasGraph;
  validation: { valid: boolean; errors: GraphProblem[] };
  createdAt: string;
  updatedAt: string;
}

/** A row of GET /workflows: no graph. */
export interface WorkflowSummary {
  id: string;
  name: string;
  description: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface WorkflowVersion {
  version: number;
  graph: CanvasGraph;
  createdAt: string;
  createdBy: string | null;
}

export type ExecutionStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';
export type NodeStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface NodeExecutionView {
  nodeId: string;
  type: string;
  status: NodeStatus;
  attempts: number;
  input: unknown;
  output: unknown;
  error: unknown;
  usage: unknown;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface ExecutionView {
  id: string;
  workflowId: string;
  workflowVersion: number;
  status: ExecutionStatus;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  error: unknown;
  usage: unknown;
  createdAt?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  nodes?: NodeExecutionView[];
  temporal?: { workflowId: string; runId: string | null; uiUrl?: string };
}

export interface ExecutionEvent {
  seq: number;
  executionId: string;
  type: string;
  nodeId?: string;
  at: string;
  data?: Record<string, unknown>;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'timed_out' | 'cancelled';

export interface ApprovalFormField {
  type: 'string' | 'number' | 'boolean';
  label?: string;
  required?: boolean;
  default?: unknown;
  enum?: (string | number)[];
  maxLength?: number;
  min?: number;
  max?: number;
}

export interface ApprovalView {
  id: string;
  executionId: string;
  workflowId: string;
  workflowName: string;
  nodeId: string;
  title: string;
  instructions: string | null;
  assigneeRole: Role | null;
  form: Record<string, ApprovalFormField> | null;
  quorum: number | null;
  status: ApprovalStatus;
  decisions: { decision: string; userId: string | null; email: string | null; comment: string | null; at: string; by: string }[];
  context: { inputs: Record<string, unknown>; nodes: Record<string, unknown> };
  requestedAt: string;
  expiresAt: string | null;
}
