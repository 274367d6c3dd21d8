// Deployments of exports (docs/export.md) inside the current tenant scope: the row a deployment workflow
// keeps up to date while it builds, runs and removes its container.
import { In } from 'typeorm';
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

  /** The deployments in these statuses, oldest first. */
  async listByStatus(statuses: readonly DeploymentRow['status'][]): Promise<DeploymentRow[]> {
    return this.scope.manager().find(DeploymentRow, { where: { status: In([...statuses]) }, order: { createdAt: 'ASC' } });
  }

  /**
   * Serialises the tenant's deployment starts until the transaction ends, so a count of its running deployments
   * and the insert that follows it cannot interleave with another start's (the schema names the tenant).
   */
  async lockStarts(): Promise<void> {
    await this.scope.manager().query("select pg_advisory_xact_lock(hashtext(current_schema() || ':deployment-starts'))");
  }

  async update(id: string, changes: DeploymentChanges): Promise<void> {
    await this.scope.manager().update(DeploymentRow, { id }, changes as QueryDeepPartialEntity<DeploymentRow>);
  }
}
