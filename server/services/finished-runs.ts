// Finished runs as last read, kept in memory: a run that has ended no longer changes (its rows get no more
// writes), so reading it again needs neither the database nor Temporal. Deleting its workflow (runs cascade)
// or its tenant, or retention purging it, is published on the invalidation bus and drops the entries; the cap is in bytes of JSON.
import { LRUCache } from 'lru-cache';
import type { ExecutionView } from '../../core/api-views';
import { TERMINAL_EXECUTION_STATUSES } from '../../core/events';
import { jsonBytes } from '../../core/limits';
import type { InvalidationBus } from '../cache/invalidation-bus';

export const FINISHED_RUNS_CACHE_BYTES = 64 * 1024 * 1024;
/** A run larger than this is read from the database each time rather than pushing many others out. */
const LARGEST_KEPT_BYTES = 1024 * 1024;

export interface FinishedRuns {
  /**
   * The kept view of a run, or a `keep` to call with what the database gave: a view read while an
   * invalidation passed is not kept, nor is an open run.
   */
  lookup(tenantId: string, id: string): { view: ExecutionView } | { keep(view: ExecutionView): void };
}

interface Kept {
  tenantId: string;
  view: ExecutionView;
  bytes: number;
}

export function createFinishedRuns(deps: { bus: InvalidationBus; maxBytes?: number }): FinishedRuns {
  const maxBytes = deps.maxBytes ?? FINISHED_RUNS_CACHE_BYTES;
  const runs = maxBytes > 0 ? new LRUCache<string, Kept>({ maxSize: maxBytes, sizeCalculation: (k) => k.bytes }) : null;
  const key = (tenantId: string, id: string) => `${tenantId}:${id.toLowerCase()}`;
  /** Bumped by every invalidation, so a read that started before one is not kept. */
  let generation = 0;
  deps.bus.on((change) => {
    generation++;
    if (!runs || change.kind === 'member' || change.kind === 'session') return;
    if (change.kind === 'runs') {
      for (const id of change.executionIds) runs.delete(key(change.tenantId, id));
      return;
    }
    for (const [k, kept] of runs.entries()) {
      if (kept.tenantId !== change.tenantId) continue;
      if (change.kind === 'tenant' || kept.view.workflowId === change.workflowId) runs.delete(k);
    }
  });
  return {
    lookup(tenantId, id) {
      const kept = runs?.get(key(tenantId, id));
      if (kept) return { view: kept.view };
      const at = generation;
      return {
        keep(view) {
          if (!runs || at !== generation || !TERMINAL_EXECUTION_STATUSES.includes(view.status)) return;
          const bytes = jsonBytes(view);
          if (bytes <= Math.min(LARGEST_KEPT_BYTES, maxBytes)) runs.set(key(tenantId, view.id), { tenantId, view, bytes });
        },
      };
    },
  };
}
