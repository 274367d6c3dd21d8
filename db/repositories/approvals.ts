// Approvals as approvers query them: the inbox across runs and one approval of a run, in the tenant scope.
import type { ApprovalStatus } from '../../core/approval';
import type { TenantScope } from '../tenant-scope';
import { Approval, Workflow } from '../entities/tenant';

export interface ApprovalListFilter {
  statuses?: ApprovalStatus[];
  workflowId?: string;
  executionId?: string;
  limit: number;
}

export class ApprovalRepository {
  constructor(private readonly scope: TenantScope) {}

  async list(filter: ApprovalListFilter): Promise<{ approval: Approval; workflowName: string | null }[]> {
    const qb = this.scope
      .manager()
      .createQueryBuilder(Approval, 'a')
      .leftJoinAndMapOne('a.workflow', Workflow, 'w', 'w.id = a.workflow_id')
      .orderBy('a.requested_at', 'DESC')
      .take(filter.limit);
    if (filter.statuses?.length) qb.andWhere('a.status in (:...st)', { st: filter.statuses });
    if (filter.workflowId) qb.andWhere('a.workflow_id = :wf', { wf: filter.workflowId });
    if (filter.executionId) qb.andWhere('a.execution_id = :ex', { ex: filter.executionId });
    const rows = await qb.getMany();
    return rows.map((a) => ({ approval: a, workflowName: (a as Approval & { workflow?: Workflow }).workflow?.name ?? null }));
  }

  async find(executionId: string, nodeId: string): Promise<Approval | null> {
    return this.scope.manager().findOne(Approval, { where: { executionId, nodeId } });
  }
}
