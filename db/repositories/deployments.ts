// Deployments of exports (docs/export.md) inside the current tenant scope: the row a deployment workflow
// keeps up to date while it builds, runs and removes its container.
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { TenantScope } from '../tenant-scope';
import { DeploymentRow } from '../entities/exports';

export type DeploymentChanges = Partial<
  Pick<DeploymentRow, 'status' | 'imageTag' | 'containerId' | 'containerPort' | 'hostPort' | 'exitCode' | 'outputs' | 'logs' | 'error' | 'startedAt' | 'finishedAt'>
>;

export class DeploymentRepository {
  constructor(private readonly scope: TenantScope) {}

  async insert(row: Pick<DeploymentRow, 'id' | 'exportId' | 'mode' | 'status' | 'inputs' | 'baseImage' | 'temporalWorkflowId' | 'createdBy' | 'containerPort'>): Promise<DeploymentRow> {
    const m = this.scope.manager();
    await m.insert(DeploymentRow, row as QueryDeepPartialEntity<DeploymentRow>);
    return m.findOneByOrFail(DeploymentRow, { id: row.id });
  }

  async find(id: string): Promise<DeploymentRow | null> {
    return this.scope.manager().findOne(DeploymentRow, { where: { id } });
  }

  async update(id: string, changes: DeploymentChanges): Promise<void> {
    await this.scope.manager().update(DeploymentRow, { id }, changes as QueryDeepPartialEntity<DeploymentRow>);
  }
}
