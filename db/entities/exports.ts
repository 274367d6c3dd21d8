// Tenant entities of code export: exported packages, their event log and their Docker deployments.
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { ExportStatus } from '../../core/export-protocol';

export const DEPLOYMENT_STATUSES = ['pending', 'building', 'running', 'succeeded', 'failed', 'stopped'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export interface ExportError {
  code: string;
  message: string;
}

@Entity({ name: 'exports' })
export class ExportRow {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'uuid', name: 'workflow_id' }) workflowId!: string;
  @Column({ type: 'int', name: 'workflow_version' }) workflowVersion!: number;
  @Column({ type: 'text' }) status!: ExportStatus;
  @Column({ type: 'text', name: 'package_name' }) packageName!: string;
  @Column({ type: 'text', name: 'module_name' }) moduleName!: string;
  @Column({ type: 'text', name: 'script_name' }) scriptName!: string;
  @Column({ type: 'text' }) version!: string;
  @Column({ type: 'text', name: 'wheel_file', nullable: true }) wheelFile!: string | null;
  @Column({ type: 'text', nullable: true }) sha256!: string | null;
  // bigint comes back from pg as a string; sizes of wheels fit a JS number.
  @Column({ type: 'bigint', name: 'size_bytes', nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  sizeBytes!: number | null;
  @Column({ type: 'text', name: 'storage_path', nullable: true }) storagePath!: string | null;
  @Column({ type: 'text', name: 'build_log', default: '' }) buildLog!: string;
  @Column({ type: 'jsonb', nullable: true }) error!: ExportError | null;
  @Column({ type: 'text', name: 'temporal_workflow_id' }) temporalWorkflowId!: string;
  @Column({ type: 'text', name: 'created_by', nullable: true }) createdBy!: string | null;
  @Column({ type: 'int', name: 'last_seq', default: 0 }) lastSeq!: number;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'finished_at', nullable: true }) finishedAt!: Date | null;
}

@Entity({ name: 'export_events' })
export class ExportEventRow {
  @PrimaryColumn({ type: 'uuid', name: 'export_id' }) exportId!: string;
  @PrimaryColumn({ type: 'int' }) seq!: number;
  @Column({ type: 'text' }) type!: string;
  @Column({ type: 'timestamptz' }) at!: Date;
  @Column({ type: 'jsonb', nullable: true }) data!: Record<string, unknown> | null;
  @Column({ type: 'text', name: 'dedupe_key', nullable: true }) dedupeKey!: string | null;
}

@Entity({ name: 'deployments' })
export class DeploymentRow {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'uuid', name: 'export_id' }) exportId!: string;
  @Column({ type: 'text' }) mode!: 'oneshot' | 'service';
  @Column({ type: 'text' }) status!: DeploymentStatus;
  @Column({ type: 'jsonb' }) inputs!: Record<string, unknown>;
  @Column({ type: 'text', name: 'base_image' }) baseImage!: string;
  @Column({ type: 'text', name: 'image_tag', nullable: true }) imageTag!: string | null;
  @Column({ type: 'text', name: 'container_id', nullable: true }) containerId!: string | null;
  @Column({ type: 'int', name: 'container_port', nullable: true }) containerPort!: number | null;
  @Column({ type: 'int', name: 'host_port', nullable: true }) hostPort!: number | null;
  @Column({ type: 'int', name: 'exit_code', nullable: true }) exitCode!: number | null;
  @Column({ type: 'jsonb', nullable: true }) outputs!: Record<string, unknown> | null;
  @Column({ type: 'text', default: '' }) logs!: string;
  @Column({ type: 'jsonb', nullable: true }) error!: ExportError | null;
  @Column({ type: 'text', name: 'temporal_workflow_id' }) temporalWorkflowId!: string;
  @Column({ type: 'text', name: 'created_by', nullable: true }) createdBy!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column({ type: 'timestamptz', name: 'finished_at', nullable: true }) finishedAt!: Date | null;
}
