// The `recordProgress` activity: the workflow's one way to write node state, execution state and events.
import type { ProgressBatch, ProgressRepository, TenantScope } from '../db';
import type { ExecutionEvent } from '../core/events';
import type { ExecutionEventPublisher } from './event-publisher';

export interface RecordProgressInput extends ProgressBatch {
  tenantId: string;
}

export interface ProgressDeps {
  scope: TenantScope;
  progress: ProgressRepository;
  publisher: ExecutionEventPublisher;
}

/** Stores a batch in the tenant's schema and publishes what it newly stored. */
export async function writeProgress(deps: ProgressDeps, input: RecordProgressInput): Promise<ExecutionEvent[]> {
  const { tenantId, ...batch } = input;
  const stored = await deps.scope.run(tenantId, () => deps.progress.apply(batch));
  await deps.publisher.publish(tenantId, stored);
  return stored;
}

export function createProgressActivities(deps: ProgressDeps) {
  return {
    async recordProgress(input: RecordProgressInput): Promise<void> {
      await writeProgress(deps, input);
    },
  };
}
