// The activities of the retention sweep (workflows/retention-sweep.ts): a page of tenants to visit, and one bounded
// purge batch of one tenant's runs past retention (db/repositories/retention.ts), whose removed runs the API
// processes are told about so their caches forget them.
import { ApplicationFailure } from '@temporalio/common';
import { RETENTION_TENANT_PAGE, type RetentionBatch, type RetentionCursor } from '../core/retention';
import type { AccountRepository, TenantScope } from '../db';
import { RetentionRepository } from '../db/repositories/retention';
import type { ExecutionEventPublisher } from './event-publisher';

export interface RetentionActivityDeps {
  scope: TenantScope;
  /**
   * Tenant ids in id order after `after`, and whether a tenant still exists (deleted ones are skipped). A worker
   * built without it fails a sweep at once, saying so, instead of purging nothing quietly.
   */
  accounts?: Pick<AccountRepository, 'tenantIdsAfter' | 'findTenant'>;
  publisher: Pick<ExecutionEventPublisher, 'publishRunsPurged'>;
}

export interface PurgeExpiredRunsInput {
  tenantId: string;
  /** ISO instant: runs that ended before it are past retention. */
  before: string;
  limit: number;
  cursor: RetentionCursor | null;
}

export function createRetentionActivities(deps: RetentionActivityDeps) {
  const runs = new RetentionRepository(deps.scope);
  const accounts = () => {
    if (!deps.accounts) throw ApplicationFailure.nonRetryable('this worker was started without the tenant accounts the retention sweep needs', 'RETENTION_UNAVAILABLE');
    return deps.accounts;
  };
  return {
    async retentionTenants(input: { after: string | null }): Promise<string[]> {
      return accounts().tenantIdsAfter(input.after, RETENTION_TENANT_PAGE);
    },

    async purgeExpiredRuns(input: PurgeExpiredRunsInput): Promise<RetentionBatch> {
      // Deleted since it was listed: its schema (and role) are gone with everything in them.
      if (!(await accounts().findTenant(input.tenantId))) return { runs: 0, executions: 0, events: 0, more: false, cursor: null };
      const batch = await deps.scope.run(input.tenantId, () => runs.purgeBatch({ before: new Date(input.before), limit: input.limit, cursor: input.cursor }));
      // After the commit: a cache told before it could read the run again and keep it.
      if (batch.executionIds.length > 0) await deps.publisher.publishRunsPurged?.(input.tenantId, batch.executionIds);
      return { runs: batch.runs, executions: batch.executions, events: batch.events, more: batch.more, cursor: batch.cursor };
    },
  };
}
