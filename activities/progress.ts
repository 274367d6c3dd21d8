// The `recordProgress` activity: the workflow's one way to write node state, execution state and events.
import type { ProgressBatch, ProgressRepository, TenantScope } from '../db';
import { RUN_END_EVENTS, type ExecutionEvent, type ExecutionStatus } from '../core/events';
import type { ExecutionEventPublisher } from './event-publisher';
import type { ActivityMetrics } from './activity-metrics';

export interface RecordProgressInput extends ProgressBatch {
  tenantId: string;
}

export interface ProgressDeps {
  scope: TenantScope;
  progress: ProgressRepository;
  publisher: ExecutionEventPublisher;
  /** The worker's metrics (worker/metrics.ts); absent: nothing is counted. */
  metrics?: ActivityMetrics;
}

/** Stores a batch in the tenant's schema and publishes what it newly stored. */
export async function writeProgress(deps: ProgressDeps, input: RecordProgressInput): Promise<ExecutionEvent[]> {
  const { tenantId, ...batch } = input;
  const stored = await deps.scope.run(tenantId, () => deps.progress.apply(batch));
  await deps.publisher.publish(tenantId, stored);
  const ends = stored.filter((e) => (RUN_END_EVENTS as readonly string[]).includes(e.type));
  // Counted as stored: a batch written again stores its end event no second time, so a run ends once in the metrics.
  for (const e of ends) deps.metrics?.runEnded(e.type.slice('execution.'.length) as ExecutionStatus);
  // A run that ended frees its slot of the tenant's share: an API admits the next queued run (run admission).
  if (ends.length > 0) await deps.publisher.publishRunEnded?.(tenantId);
  return stored;
}

export function createProgressActivities(deps: ProgressDeps) {
  return {
    async recordProgress(input: RecordProgressInput): Promise<void> {
      await writeProgress(deps, input);
    },
  };
}
