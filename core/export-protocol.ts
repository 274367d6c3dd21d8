// The contract between the API and the export workflows (`exportRun`, `deploymentRun`): names, inputs,
// Temporal ids under the tenant's prefix, and the Redis channel export events are published on.
import type { ContainerSandbox } from './deployment-sandbox';
import type { ExportPlan } from './export-plan';

/** An export's life: each step of the pipeline, then one of the three ends. */
export const EXPORT_STATUSES = ['pending', 'rendering', 'building', 'checking', 'storing', 'succeeded', 'failed', 'cancelled'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];
export const FINISHED_EXPORT_STATUSES: readonly ExportStatus[] = ['succeeded', 'failed', 'cancelled'];

export const EXPORT_RUN_WORKFLOW = 'exportRun';
export const DEPLOYMENT_RUN_WORKFLOW = 'deploymentRun';

export interface ExportNamesView {
  distributionName: string;
  moduleName: string;
  scriptName: string;
  title: string;
}

export interface ExportRunInput {
  tenantId: string;
  exportId: string;
  plan: ExportPlan;
  names: ExportNamesView;
  baseImage: string;
}

export interface ExportRunResult {
  wheelFile: string;
  sha256: string;
  sizeBytes: number;
}

export interface DeploymentRunInput {
  tenantId: string;
  exportId: string;
  deploymentId: string;
  mode: 'oneshot' | 'service';
  inputs: Record<string, unknown>;
  decision?: 'approve' | 'reject';
  baseImage: string;
  containerPort: number;
  /** The stored wheel (relative to the data dir) and the export's rendering input, to build the image from. */
  storagePath: string;
  wheelFile: string;
  project: ExportRunInput;
  /** The container's confinement, decided by the API (core/deployment-sandbox.ts); absent in older workflows. */
  sandbox?: ContainerSandbox;
}

export const STOP_DEPLOYMENT_SIGNAL = 'stop';

export function exportTemporalId(tenantId: string, exportId: string): string {
  return `tenant/${tenantId}/export/${exportId}`;
}

export function deploymentTemporalId(tenantId: string, deploymentId: string): string {
  return `tenant/${tenantId}/deployment/${deploymentId}`;
}
