// Entities of a tenant schema (`tenant_<id>`). They name no schema: the tenant scope's search_path picks it.
import { Column, CreateDateColumn, DeleteDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { CanvasGraph } from '../../core/graph';
import type { RunPlan } from '../../core/plan';
import type { ExecutionEventType, ExecutionStatus, NodeStatus } from '../../core/events';
import type { ApprovalContext, ApprovalStatus, RecordedDecision } from '../../core/approval';
import type { ApprovalData } from '../../core/graph';
import type { ExecutionTrigger } from '../../core/api-views';

@Entity({ name: 'workflows' })
export class Workflow {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text', default: '' }) description!: string;
  @Column({ type: 'int', name: 'current_version' }) currentVersion!: number;
  @Column({ type: 'uuid', name: 'created_by', nullable: true }) createdBy!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
  /** Set when the workflow is deleted: its history stays, and TypeORM's finds leave the row out. */
  @DeleteDateColumn({ type: 'timestamptz', name: 'deleted_at' }) deletedAt!: Date | null;
}

@Entity({ name: 'workflow_versions' })
export class WorkflowVersion {
  @PrimaryColumn({ type: 'uuid', name: 'workflow_id' }) workflowId!: string;
  @PrimaryColumn({ type: 'int' }) version!: number;
  @Column({ type: 'jsonb' }) graph!: CanvasGraph;
  @Column({ type: 'uuid', name: 'created_by', nullable: true }) createdBy!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}

export interface ExecutionError {
  code: string;
  message: string;
  nodeId?: string;
}

export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

@Entity({ name: 'executions' })
export class Execution {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'uuid', name: 'workflow_id' }) workflowId!: string;
  @Column({ type: 'int', name: 'workflow_version' }) workflowVersion!: number;
  @Column({ type: 'text' }) status!: ExecutionStatus;
  @Column({ type: 'jsonb' }) inputs!: Record<string, unknown>;
  @Column({ type: 'jsonb', nullable: true }) outputs!: Record<string, unknown> | null;
  @Column({ type: 'jsonb', nullable: true }) error!: ExecutionError | null;
  @Column({ type: 'jsonb' }) plan!: RunPlan;
  @Column({ type: 'jsonb', default: () => `'{"inputTokens":0,"outputTokens":0,"totalTokens":0}'` }) usage!: UsageTotals;
  @Column({ type: 'text', name: 'idempotency_key', nullable: true }) idempotencyKey!: string | null;
  @Column({ type: 'text', name: 'temporal_workflow_id' }) temporalWorkflowId!: string;
  @Column({ type: 'text', name: 'temporal_run_id', nullable: true }) temporalRunId!: string | null;
  @Column({ type: 'text', name: 'started_by', nullable: true }) startedBy!: string | null;
  @Column({ type: 'jsonb', default: () => `'{"type":"manual"}'` }) trigger!: ExecutionTrigger;
  /** The execution that started this one as a child (subflow, map item, workflow tool). */
  @Column({ type: 'uuid', name: 'parent_execution_id', nullable: true }) parentExecutionId!: string | null;
  /** The execution this one re-runs (POST /executions/:id/retry). */
  @Column({ type: 'uuid', name: 'retry_of', nullable: true }) retryOf!: string | null;
  /** When this top-level run got a slot of its tenant's share (core/run-admission.ts); null while it is queued. */
  @Column({ type: 'timestamptz', name: 'admitted_at', nullable: true }) admittedAt!: Date | null;
  @Column({ type: 'int', name: 'last_seq', default: 0 }) lastSeq!: number;
  @Column({ type: 'text', name: 'cancelled_by', nullable: true }) cancelledBy!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column({ type: 'timestamptz', name: 'finished_at', nullable: true }) finishedAt!: Date | null;
}

@Entity({ name: 'node_executions' })
export class NodeExecution {
  @PrimaryColumn({ type: 'uuid', name: 'execution_id' }) executionId!: string;
  @PrimaryColumn({ type: 'text', name: 'node_id' }) nodeId!: string;
  @Column({ type: 'text', name: 'node_type' }) nodeType!: string;
  @Column({ type: 'text' }) status!: NodeStatus;
  @Column({ type: 'int', default: 0 }) attempts!: number;
  @Column({ type: 'jsonb', nullable: true }) input!: Record<string, unknown> | null;
  @Column({ type: 'jsonb', nullable: true }) output!: unknown;
  @Column({ type: 'jsonb', nullable: true }) error!: ExecutionError | null;
  @Column({ type: 'jsonb', nullable: true }) usage!: UsageTotals | null;
  @Column({ type: 'timestamptz', name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column({ type: 'timestamptz', name: 'finished_at', nullable: true }) finishedAt!: Date | null;
}

@Entity({ name: 'execution_events' })
export class ExecutionEventRow {
  @PrimaryColumn({ type: 'uuid', name: 'execution_id' }) executionId!: string;
  @PrimaryColumn({ type: 'int' }) seq!: number;
  @Column({ type: 'text' }) type!: ExecutionEventType;
  @Column({ type: 'text', name: 'node_id', nullable: true }) nodeId!: string | null;
  @Column({ type: 'timestamptz' }) at!: Date;
  @Column({ type: 'jsonb', nullable: true }) data!: Record<string, unknown> | null;
  @Column({ type: 'text', name: 'dedupe_key', nullable: true }) dedupeKey!: string | null;
}

@Entity({ name: 'approvals' })
export class Approval {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'uuid', name: 'execution_id' }) executionId!: string;
  @Column({ type: 'uuid', name: 'workflow_id' }) workflowId!: string;
  @Column({ type: 'text', name: 'node_id' }) nodeId!: string;
  @Column({ type: 'text' }) title!: string;
  @Column({ type: 'text', nullable: true }) instructions!: string | null;
  @Column({ type: 'text', name: 'assignee_role', nullable: true }) assigneeRole!: ApprovalData['assigneeRole'] | null;
  @Column({ type: 'int', default: 1 }) quorum!: number;
  @Column({ type: 'jsonb', nullable: true }) form!: ApprovalData['form'] | null;
  @Column({ type: 'jsonb', nullable: true }) context!: ApprovalContext | null;
  @Column({ type: 'text' }) status!: ApprovalStatus;
  @Column({ type: 'jsonb', default: () => `'[]'` }) decisions!: RecordedDecision[];
  @Column({ type: 'timestamptz', name: 'requested_at' }) requestedAt!: Date;
  @Column({ type: 'timestamptz', name: 'expires_at', nullable: true }) expiresAt!: Date | null;
  @Column({ type: 'timestamptz', name: 'decided_at', nullable: true }) decidedAt!: Date | null;
}
