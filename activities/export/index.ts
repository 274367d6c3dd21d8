// The export and deployment activities, bound to their dependencies once (`createExportActivities(deps)`).
import type Docker from 'dockerode';
import type { DeploymentChanges, DeploymentRepository, ExportRepository, TenantScope } from '../../db';
import type { ExecutionEventPublisher } from '../event-publisher';
import { buildWheel } from './build-wheel';
import { checkWheel, type CheckWheelInput } from './check-wheel';
import { ApplicationFailure } from '@temporalio/common';
import {
  DEPLOY_FAILED,
  buildDeploymentImage,
  removeDeployment,
  startDeploymentContainer,
  waitDeploymentContainer,
  type BuildImageInput,
  type StartContainerInput,
} from './docker-deploy';
import { recordExport, type RecordExportInput } from './record-export';
import { exportWorkDir, renderProject, type RenderProjectInput } from './render-project';
import { storeArtifact } from './store-artifact';
import { rm } from 'node:fs/promises';
import path from 'node:path';

export interface ExportActivityDeps {
  scope: TenantScope;
  exports: ExportRepository;
  deployments: DeploymentRepository;
  publisher: ExecutionEventPublisher;
  dataDir: string;
  /** Debian's Python with python3-build/-wheel/-setuptools/-venv (default /usr/bin/python3). */
  python?: string;
  buildTimeoutMs?: number;
  /** The Docker engine for deployments; absent, deployment activities fail with a clear message. */
  docker?: Docker;
}

export const DEFAULT_EXPORT_PYTHON = '/usr/bin/python3';

export interface RecordDeploymentInput {
  tenantId: string;
  deploymentId: string;
  changes: Omit<DeploymentChanges, 'startedAt' | 'finishedAt'> & { startedAt?: string; finishedAt?: string };
}

export function createExportActivities(given: ExportActivityDeps) {
  // Build tools run with the work directory as their cwd: a relative DATA_DIR (the default `.data`) would then
  // point somewhere else. Every path below starts from an absolute one.
  const deps = { ...given, dataDir: path.resolve(given.dataDir) };
  const build = { dataDir: deps.dataDir, python: deps.python ?? DEFAULT_EXPORT_PYTHON, buildTimeoutMs: deps.buildTimeoutMs ?? 10 * 60_000 };
  const docker = () => {
    // Not retried: another attempt on this worker finds no engine either.
    if (!deps.docker) throw ApplicationFailure.nonRetryable('this worker has no Docker engine configured (its log at start says why)', DEPLOY_FAILED);
    return { dataDir: deps.dataDir, docker: deps.docker };
  };
  return {
    async recordExport(input: RecordExportInput): Promise<void> {
      // An export that ends well (its wheel is in the artifact store) or was cancelled needs its work directory
      // no more; a failed one keeps it for inspection. Removed before the end is recorded, so a reader who sees
      // the end sees the directory gone; removing twice (a retry) is harmless.
      if (input.changes.status === 'succeeded' || input.changes.status === 'cancelled') {
        await rm(exportWorkDir(deps.dataDir, input.tenantId, input.exportId), { recursive: true, force: true });
      }
      await recordExport(deps, input);
    },
    async renderExportProject(input: RenderProjectInput): Promise<{ files: string[] }> {
      const projectDir = path.join(exportWorkDir(deps.dataDir, input.tenantId, input.exportId), 'project');
      const { files } = await renderProject(input, projectDir);
      return { files };
    },
    async buildExportWheel(input: RenderProjectInput) {
      return buildWheel(build, input);
    },
    async checkExportWheel(input: CheckWheelInput) {
      return checkWheel(build, input);
    },
    async storeExportArtifact(input: { wheelPath: string }) {
      return storeArtifact(build, input);
    },
    async recordDeployment(input: RecordDeploymentInput): Promise<void> {
      const { startedAt, finishedAt, ...rest } = input.changes;
      const changes: DeploymentChanges = { ...rest, ...(startedAt ? { startedAt: new Date(startedAt) } : {}), ...(finishedAt ? { finishedAt: new Date(finishedAt) } : {}) };
      await deps.scope.run(input.tenantId, () => deps.deployments.update(input.deploymentId, changes));
    },
    async buildDeploymentImage(input: BuildImageInput) {
      return buildDeploymentImage(docker(), input);
    },
    async startDeploymentContainer(input: StartContainerInput) {
      return startDeploymentContainer(docker(), input);
    },
    async waitDeploymentContainer(input: { containerId: string }) {
      return waitDeploymentContainer(docker(), input);
    },
    async removeDeployment(input: { containerId: string | null; imageTag: string | null; deploymentId?: string }) {
      // Nothing was made (the build never began): nothing to remove, engine or not.
      if (!input.containerId && !input.imageTag) return;
      await removeDeployment(docker(), input);
    },
  };
}

export type ExportActivities = ReturnType<typeof createExportActivities>;
