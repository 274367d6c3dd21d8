// Workflows and their saved versions, inside the current tenant scope. Every save is a new version.
import { randomUUID } from 'node:crypto';
import type { CanvasGraph } from '../../core/graph';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { TenantScope } from '../tenant-scope';
import { Workflow, WorkflowVersion } from '../entities/tenant';

export interface WorkflowWithGraph {
  workflow: Workflow;
  graph: CanvasGraph;
}

export class WorkflowRepository {
  constructor(private readonly scope: TenantScope) {}

  async create(input: { name: string; description?: string; graph: CanvasGraph; createdBy: string | null }): Promise<WorkflowWithGraph> {
    const m = this.scope.manager();
    const workflow = m.create(Workflow, {
      id: randomUUID(),
      name: input.name,
      description: input.description ?? '',
      currentVersion: 1,
      createdBy: input.createdBy,
    });
    await m.insert(Workflow, workflow);
    await m.insert(WorkflowVersion, { workflowId: workflow.id, version: 1, graph: input.graph, createdBy: input.createdBy } as QueryDeepPartialEntity<WorkflowVersion>);
    return { workflow: await m.findOneByOrFail(Workflow, { id: workflow.id }), graph: input.graph };
  }

  async find(id: string): Promise<Workflow | null> {
    return this.scope.manager().findOne(Workflow, { where: { id } });
  }

  /** Locks the row so concurrent saves get consecutive versions. */
  async findForUpdate(id: string): Promise<Workflow | null> {
    return this.scope.manager().findOne(Workflow, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  async list(filter: { search?: string; limit: number; offset: number }): Promise<{ items: Workflow[]; total: number }> {
    const qb = this.scope.manager().createQueryBuilder(Workflow, 'w').orderBy('w.updated_at', 'DESC').addOrderBy('w.id', 'ASC');
    if (filter.search) qb.where('w.name ilike :s', { s: `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` });
    const [items, total] = await qb.take(filter.limit).skip(filter.offset).getManyAndCount();
    return { items, total };
  }

  /** Every workflow with the graph of its current version, in one query (the MCP endpoint's tool catalog). */
  async listWithCurrentGraph(): Promise<{ id: string; name: string; description: string; createdAt: Date; graph: CanvasGraph }[]> {
    const rows = (await this.scope
      .manager()
      .query(
        'select w.id, w.name, w.description, w.created_at as "createdAt", v.graph from workflows w join workflow_versions v on v.workflow_id = w.id and v.version = w.current_version where w.deleted_at is null order by w.created_at, w.id',
      )) as { id: string; name: string; description: string; createdAt: Date | string; graph: CanvasGraph }[];
    return rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt) }));
  }

  /** Every workflow's id, name and creation time: what names the MCP tools, without reading any graph. */
  async listNames(): Promise<{ id: string; name: string; createdAt: Date }[]> {
    const rows = (await this.scope.manager().query('select id, name, created_at as "createdAt" from workflows where deleted_at is null')) as { id: string; name: string; createdAt: Date | string }[];
    return rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt) }));
  }

  async version(workflowId: string, version: number): Promise<WorkflowVersion | null> {
    return this.scope.manager().findOne(WorkflowVersion, { where: { workflowId, version } });
  }

  async versions(workflowId: string): Promise<WorkflowVersion[]> {
    return this.scope.manager().find(WorkflowVersion, { where: { workflowId }, order: { version: 'DESC' } });
  }

  async update(
    workflow: Workflow,
    changes: { name?: string; description?: string; graph?: CanvasGraph; updatedBy: string | null },
  ): Promise<Workflow> {
    const m = this.scope.manager();
    if (changes.graph) {
      workflow.currentVersion += 1;
      await m.insert(WorkflowVersion, {
        workflowId: workflow.id,
        version: workflow.currentVersion,
        graph: changes.graph,
        createdBy: changes.updatedBy,
      } as QueryDeepPartialEntity<WorkflowVersion>);
    }
    if (changes.name !== undefined) workflow.name = changes.name;
    if (changes.description !== undefined) workflow.description = changes.description;
    workflow.updatedAt = new Date();
    await m.save(Workflow, workflow);
    return workflow;
  }

  /**
   * Marks the workflow deleted (its history stays: runs, exports and deployments reference it). Answers `marked`,
   * `already` for a workflow deleted before (whose deletion may have stopped half-way), or `missing`.
   */
  async markDeleted(id: string): Promise<'marked' | 'already' | 'missing'> {
    const result = await this.scope.manager().createQueryBuilder().softDelete().from(Workflow).where('id = :id and deleted_at is null', { id }).execute();
    if ((result.affected ?? 0) > 0) return 'marked';
    return (await this.scope.manager().findOne(Workflow, { where: { id }, withDeleted: true })) ? 'already' : 'missing';
  }
}
