// The retention sweep (docs/operations.md "Retention"), fired by Tessera's system schedule: for every tenant in
// id order, purge its runs that ended more than `retentionDays` ago, one bounded batch per activity, until the
// tenant has none left; then the next tenant. The cutoff is fixed when the sweep starts, and the sweep continues
// as new (carrying its place) when its history grows, so a first sweep over years of runs stays bounded.
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createRetentionActivities } from '../activities/retention';
import { DEFAULT_RETENTION_BATCH_SIZE, DEFAULT_RETENTION_BATCHES_PER_RUN, retentionCutoff, type RetentionCursor } from '../core/retention';

const { retentionTenants, purgeExpiredRuns } = proxyActivities<ReturnType<typeof createRetentionActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 10, initialInterval: '5 seconds', backoffCoefficient: 2 },
});

export interface RetentionSweepInput {
  retentionDays: number;
  /** Rows of events, and of executions, one batch deletes at most (default DEFAULT_RETENTION_BATCH_SIZE). */
  batchSize?: number;
  /** Batches before continuing as new (default DEFAULT_RETENTION_BATCHES_PER_RUN). */
  batchesPerRun?: number;
  /** Set by a continued sweep: where it stands. */
  progress?: RetentionSweepProgress;
}

export interface RetentionSweepProgress {
  /** ISO instant, fixed at the sweep's start. */
  before: string;
  /** The tenant being purged, and the last one of the page before it (null at the start). */
  tenantId: string | null;
  pageAfter: string | null;
  cursor: RetentionCursor | null;
  tenants: number;
  runs: number;
  executions: number;
  events: number;
  batches: number;
}

export type RetentionSweepResult = Omit<RetentionSweepProgress, 'tenantId' | 'pageAfter' | 'cursor'>;

export async function retentionSweep(input: RetentionSweepInput): Promise<RetentionSweepResult> {
  const limit = input.batchSize ?? DEFAULT_RETENTION_BATCH_SIZE;
  const batchesPerRun = input.batchesPerRun ?? DEFAULT_RETENTION_BATCHES_PER_RUN;
  // Workflow time is the time the sweep started (deterministic on replay).
  const p: RetentionSweepProgress = input.progress ?? {
    before: retentionCutoff(new Date(Date.now()), input.retentionDays).toISOString(),
    tenantId: null,
    pageAfter: null,
    cursor: null,
    tenants: 0,
    runs: 0,
    executions: 0,
    events: 0,
    batches: 0,
  };
  let batchesHere = 0;
  for (;;) {
    const page = await retentionTenants({ after: p.pageAfter });
    // A continued sweep resumes inside the page at the tenant it was purging.
    const todo = p.tenantId === null ? page : page.slice(Math.max(0, page.indexOf(p.tenantId)));
    for (const tenantId of todo) {
      if (p.tenantId !== tenantId) {
        p.cursor = null;
        p.tenants++;
      }
      p.tenantId = tenantId;
      for (;;) {
        if (batchesHere >= batchesPerRun || workflowInfo().continueAsNewSuggested) {
          return continueAsNew<typeof retentionSweep>({ ...input, progress: p });
        }
        const batch = await purgeExpiredRuns({ tenantId, before: p.before, limit, cursor: p.cursor });
        batchesHere++;
        p.batches++;
        p.runs += batch.runs;
        p.executions += batch.executions;
        p.events += batch.events;
        p.cursor = batch.cursor;
        if (!batch.more) break;
      }
    }
    if (page.length === 0) break;
    p.pageAfter = page[page.length - 1] ?? null;
    p.tenantId = null;
    p.cursor = null;
  }
  return { before: p.before, tenants: p.tenants, runs: p.runs, executions: p.executions, events: p.events, batches: p.batches };
}
