// The shapes the REST API answers with for workflows, runs, approvals and exports (DESIGN.md §4): built by the
// server's services, read by the web app, so both sides name one definition.
import type { ApprovalContext, ApprovalStatus, RecordedDecision } from './approval';
import type { ExecutionStatus, NodeStatus } from './events';
import type { ExportStatus } from './export-protocol';
import type { ApprovalData, CanvasGraph } from './graph';
import type { GraphProblem } from './validate';

export interface RunError {
  code: string;
  message: string;
  nodeId?: string;
}

export interface TokenTotals {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
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

export interface WorkflowView extends WorkflowSummary {
  graph: CanvasGraph;
  validation: { valid: boolean; errors: GraphProblem[] };
}

export interface WorkflowVersionView {
  version: number;
  graph: CanvasGraph;
  createdAt: string;
  createdBy: string | null;
}

export interface NodeExecutionView {
  nodeId: string;
  type: string;
  status: NodeStatus;
  attempts: number;
  input: Record<string, unknown> | null;
  output: unknown;
  error: RunError | null;
  usage: TokenTotals | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** The run this node's result was kept from (a retry's reused node, core/retry-plan.ts); absent when it ran here. */
  reusedFrom?: string;
}

/** What started a run (DESIGN.md §8); a schedule or webhook trigger also names its id, a subflow its parent and node. */
export const EXECUTION_TRIGGER_TYPES = ['manual', 'api', 'schedule', 'webhook', 'retry', 'subflow', 'mcp'] as const;
export type ExecutionTriggerType = (typeof EXECUTION_TRIGGER_TYPES)[number];
export interface ExecutionTrigger {
  type: ExecutionTriggerType;
  scheduleId?: string;
  webhookId?: string;
  /** A retry (POST /executions/:id/retry): the run it retries. */
  retryOf?: string;
  /** A child execution (subflow node, workflow tool): the run and node that started it. */
  parentExecutionId?: string;
  nodeId?: string;
}

export interface ExecutionView {
  id: string;
  workflowId: string;
  workflowVersion: number;
  status: ExecutionStatus;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  error: RunError | null;
  usage: TokenTotals;
  startedBy: string | null;
  trigger: ExecutionTrigger;
  /** The run that started this one as a child (a subflow node or a workflow tool), else null (the API always says). */
  parentExecutionId?: string | null;
  /** The run this one retries (POST /executions/:id/retry), else null (the API always says). */
  retryOf?: string | null;
  cancelledBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  temporal: { workflowId: string; runId: string | null; uiUrl: string };
  /** Present on GET /executions/:id, absent in lists. */
  nodes?: NodeExecutionView[];
  /** A pending run waiting for a slot of its tenant's share (RUNS_MAX_CONCURRENT_PER_TENANT, run admission). */
  queued?: boolean;
  /** In lists (GET /executions): the workflow's name (null if it is gone). */
  workflowName?: string | null;
  /** In lists: what the run's tokens cost in USD at MODEL_PRICES; null when some are on a model without a price. */
  costUsd?: number | null;
}

/** GET /analytics: a tenant's runs over a time range (runs created in [from, to)), per UTC day. */
export interface AnalyticsView {
  from: string;
  to: string;
  workflowId: string | null;
  totals: { runs: number; inputTokens: number; outputTokens: number; totalTokens: number; costUsd: number | null };
  /** Every UTC day of the range, with its runs per status (statuses without runs left out). */
  runsPerDay: Array<{ day: string; total: number; byStatus: Partial<Record<ExecutionStatus, number>> }>;
  /** How long finished runs took: over the range, and per day of the range that had any. */
  duration: { runs: number; p50Ms: number | null; p95Ms: number | null; perDay: Array<{ day: string; runs: number; p50Ms: number | null; p95Ms: number | null }> };
  /** Tokens and cost per provider and model (model null: a node type whose output names none, e.g. a conversation). */
  models: Array<{ provider: string; model: string | null; runs: number; inputTokens: number; outputTokens: number; totalTokens: number; costUsd: number | null }>;
  /** The nodes that failed most often, with their latest error. */
  failingNodes: Array<{ workflowId: string; workflowName: string | null; nodeId: string; nodeType: string; failures: number; lastFailedAt: string | null; lastError: RunError | null }>;
}

export interface ApprovalView {
  id: string;
  executionId: string;
  workflowId: string;
  workflowName: string | null;
  nodeId: string;
  title: string;
  instructions: string | null;
  assigneeRole: ApprovalData['assigneeRole'] | null;
  quorum: number;
  form: ApprovalData['form'] | null;
  status: ApprovalStatus;
  decisions: RecordedDecision[];
  context: ApprovalContext | null;
  requestedAt: string;
  expiresAt: string | null;
  decidedAt: string | null;
  /** Whether the caller may decide it now. */
  canDecide: boolean;
}

/** GET /exports/:id: a Python package export of one workflow version, with its build log. */
export interface ExportView {
  id: string;
  workflowId: string;
  workflowVersion: number;
  status: ExportStatus;
  packageName: string;
  version: string;
  wheelFile: string | null;
  sha256: string | null;
  sizeBytes: number | null;
  buildLog: string;
  error: { code: string; message: string } | null;
  createdAt: string;
  finishedAt: string | null;
  temporal: { workflowId: string };
}

/** A row of GET /workflows/:id/exports: everything but the build log. */
export type ExportSummary = Omit<ExportView, 'buildLog'>;

/** A tenant-registered MCP server (Streamable HTTP); its credential's secret is sent as a bearer token. */
export interface McpServerView {
  id: string;
  name: string;
  url: string;
  credentialId: string | null;
  createdBy: string | null;
  createdAt: string;
}

/** A schedule's timing: a cron expression in a time zone, or a fixed interval. */
export type ScheduleSpec = { cron: string; timezone: string } | { intervalSeconds: number };

/** How many of a schedule's coming firings a view lists. */
export const SCHEDULE_NEXT_RUNS_SHOWN = 5;

export interface ScheduleView {
  id: string;
  workflowId: string;
  spec: ScheduleSpec;
  inputs: Record<string, unknown>;
  paused: boolean;
  /** The next firing Temporal plans; null while paused. */
  nextRunAt: string | null;
  /** The coming firings Temporal plans (up to SCHEDULE_NEXT_RUNS_SHOWN, soonest first); empty while paused. */
  nextRunTimes: string[];
  createdAt: string;
}

export interface WebhookView {
  id: string;
  workflowId: string;
  /** Where deliveries go: POST <url> with X-Tessera-Signature. */
  url: string;
  createdAt: string;
}

/** The answer to creating a webhook: the only time its secret is shown. */
export type CreatedWebhook = WebhookView & { secret: string };
