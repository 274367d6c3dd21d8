// The shapes the REST API answers with (DESIGN.md §4), as the browser reads them.
// Workflow, run, approval and export views are the server's own definitions (core/api-views.ts).
export type {
  AnalyticsView,
  ApprovalView,
  ExecutionView,
  ExportSummary,
  ExportView,
  NodeExecutionView,
  RunError,
  WorkflowSummary,
  WorkflowVersionView as WorkflowVersion,
  WorkflowView,
} from '../../../core/api-views';
export type { ExecutionStatus, NodeStatus } from '../../../core/events';
export type { ApprovalStatus } from '../../../core/approval';
export type { ExportStatus } from '../../../core/export-protocol';

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

export interface ExecutionEvent {
  seq: number;
  executionId: string;
  type: string;
  nodeId?: string;
  at: string;
  data?: Record<string, unknown>;
}

