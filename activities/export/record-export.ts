// The `recordExport` activity: the export workflow's one way to write its row and append its events, which are
// then published on the export's Redis channel for the WebSocket hub (the same channel shape as a run's).
import type { NewExecutionEvent } from '../../core/events';
import type { ExportChanges, ExportRepository, TenantScope } from '../../db';
import type { ExecutionEventPublisher } from '../event-publisher';

export interface RecordExportInput {
  tenantId: string;
  exportId: string;
  changes: Omit<ExportChanges, 'finishedAt'> & { finishedAt?: string };
  events: NewExecutionEvent[];
}

export interface RecordExportDeps {
  scope: TenantScope;
  exports: ExportRepository;
  publisher: ExecutionEventPublisher;
}

export async function recordExport(deps: RecordExportDeps, input: RecordExportInput): Promise<void> {
  const { finishedAt, ...rest } = input.changes;
  const changes: ExportChanges = { ...rest, ...(finishedAt ? { finishedAt: new Date(finishedAt) } : {}) };
  const stored = await deps.scope.run(input.tenantId, () => deps.exports.record(input.exportId, changes, input.events));
  await deps.publisher.publish(input.tenantId, stored);
}
