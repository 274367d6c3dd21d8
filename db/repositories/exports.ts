// Exports inside the current tenant scope; an export's events go to its event log (db/event-log.ts, the same
// log as a run's). Deployments of an export have their own repository (db/repositories/deployments.ts).
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { ExecutionEvent, NewExecutionEvent } from '../../core/events';
import type { TenantScope } from '../tenant-scope';
import { EventLog, EXPORT_LOG } from '../event-log';
import { ExportRow } from '../entities/exports';

export type ExportChanges = Partial<Pick<ExportRow, 'status' | 'wheelFile' | 'sha256' | 'sizeBytes' | 'storagePath' | 'buildLog' | 'error' | 'finishedAt'>>;

export class ExportRepository {
  private readonly log: EventLog;

  constructor(private readonly scope: TenantScope) {
    this.log = new EventLog(scope, EXPORT_LOG);
  }

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
    // The log locks the export's row first (and fails for an unknown export), then the changes follow.
    const stored = await this.log.append(exportId, events);
    if (Object.keys(changes).length) await this.scope.manager().update(ExportRow, { id: exportId }, changes as QueryDeepPartialEntity<ExportRow>);
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
    return this.log.after(exportId, afterSeq, limit);
  }
}
