// Exports and deployments inside the current tenant scope, and the export event log (gapless per-export
// seq, idempotent per event key, like an execution's).
import { MoreThan } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { ExecutionEvent, NewExecutionEvent } from '../../core/events';
import type { TenantScope } from '../tenant-scope';
import { DeploymentRow, ExportEventRow, ExportRow } from '../entities/exports';

export type ExportChanges = Partial<Pick<ExportRow, 'status' | 'wheelFile' | 'sha256' | 'sizeBytes' | 'storagePath' | 'buildLog' | 'error' | 'finishedAt'>>;
export type DeploymentChanges = Partial<
  Pick<DeploymentRow, 'status' | 'imageTag' | 'containerId' | 'containerPort' | 'hostPort' | 'exitCode' | 'outputs' | 'logs' | 'error' | 'startedAt' | 'finishedAt'>
>;

export class ExportRepository {
  constructor(private readonly scope: TenantScope) {}

  async insert(row: Omit<ExportRow, 'createdAt' | 'lastSeq' | 'finishedAt' | 'wheelFile' | 'sha256' | 'sizeBytes' | 'storagePath' | 'buildLog' | 'error'>): Promise<ExportRow> {
    const m = this.scope.manager();
    await m.insert(ExportRow, row as QueryDeepPartialEntity<ExportRow>);
    return m.findOneByOrFail(ExportRow, { id: row.id });
  }

  async find(id: string): Promise<ExportRow | null> {
    return this.scope.manager().findOne(ExportRow, { where: { id } });
  }

  /** Applies changes and appends events in one transaction; returns the newly stored events to publish. */
  async record(exportId: string, changes: ExportChanges, events: NewExecutionEvent[]): Promise<ExecutionEvent[]> {
    const m = this.scope.manager();
    const row = await m.findOne(ExportRow, { where: { id: exportId }, lock: { mode: 'pessimistic_write' } });
    if (!row) throw new Error(`export ${exportId} not found`);
    const keys = events.map((e) => e.key).filter((k): k is string => Boolean(k));
    const seen = new Set<string>();
    if (keys.length) {
      const rows: { dedupe_key: string }[] = await m.query('select dedupe_key from export_events where export_id = $1 and dedupe_key = any($2)', [exportId, keys]);
      rows.forEach((r) => seen.add(r.dedupe_key));
    }
    const fresh = events.filter((e) => !e.key || !seen.has(e.key));
    let seq = row.lastSeq;
    const stored: ExecutionEvent[] = [];
    for (const e of fresh) {
      seq += 1;
      await m.insert(ExportEventRow, { exportId, seq, type: e.type, at: new Date(e.at), data: e.data ?? null, dedupeKey: e.key ?? null } as QueryDeepPartialEntity<ExportEventRow>);
      stored.push({ seq, executionId: exportId, type: e.type, at: new Date(e.at).toISOString(), ...(e.data ? { data: e.data } : {}) });
    }
    const update: QueryDeepPartialEntity<ExportRow> = { ...(changes as QueryDeepPartialEntity<ExportRow>), ...(seq !== row.lastSeq ? { lastSeq: seq } : {}) };
    if (Object.keys(update).length) await m.update(ExportRow, { id: exportId }, update);
    return stored;
  }

  /** A workflow's exports, newest first, without their build logs (read one export for its log). */
  async listForWorkflow(workflowId: string, limit: number): Promise<Omit<ExportRow, 'buildLog'>[]> {
    const columns = this.scope
      .manager()
      .connection.getMetadata(ExportRow)
      .columns.map((c) => c.propertyName)
      .filter((p) => p !== 'buildLog');
    return this.scope
      .manager()
      .createQueryBuilder(ExportRow, 'x')
      .select(columns.map((p) => `x.${p}`))
      .where('x.workflow_id = :wf', { wf: workflowId })
      .orderBy('x.created_at', 'DESC')
      .addOrderBy('x.id', 'DESC')
      .take(limit)
      .getMany();
  }

  async events(exportId: string, afterSeq: number, limit: number): Promise<ExecutionEvent[]> {
    const rows = await this.scope.manager().find(ExportEventRow, { where: { exportId, seq: MoreThan(afterSeq) }, order: { seq: 'ASC' }, take: limit });
    return rows
      .map((r) => ({ seq: r.seq, executionId: r.exportId, type: r.type as ExecutionEvent['type'], at: new Date(r.at).toISOString(), ...(r.data ? { data: r.data } : {}) }));
  }

  async insertDeployment(row: Pick<DeploymentRow, 'id' | 'exportId' | 'mode' | 'status' | 'inputs' | 'baseImage' | 'temporalWorkflowId' | 'createdBy' | 'containerPort'>): Promise<DeploymentRow> {
    const m = this.scope.manager();
    await m.insert(DeploymentRow, row as QueryDeepPartialEntity<DeploymentRow>);
    return m.findOneByOrFail(DeploymentRow, { id: row.id });
  }

  async findDeployment(id: string): Promise<DeploymentRow | null> {
    return this.scope.manager().findOne(DeploymentRow, { where: { id } });
  }

  async updateDeployment(id: string, changes: DeploymentChanges): Promise<void> {
    await this.scope.manager().update(DeploymentRow, { id }, changes as QueryDeepPartialEntity<DeploymentRow>);
  }
}
