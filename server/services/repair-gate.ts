// When reading a run asks Temporal: the row is the answer while it moves, and Temporal is asked only when
// the row is stale (no progress for `staleMs`: the worker may be gone, or an operator ended the workflow)
// or when the caller asks (`?refresh=true`). A run that was checked and is still open is not asked again
// for another `staleMs`, so clients polling a run that waits on an approval do not load the Temporal
// server in proportion to how often they poll (docs/decisions.md, "Reading a run is a database read").

/** 30 s: far above the gap between two steps of a moving run, short enough that a dead run shows soon. */
export const DEFAULT_REPAIR_STALE_MS = 30_000;

/** Runs remembered as "checked, still open"; the oldest are forgotten first (they are then checked again). */
const MAX_REMEMBERED = 10_000;

/** The newest moment the row shows progress: created, started, or a node started or finished. */
export function lastProgressAt(run: { createdAt: Date; startedAt: Date | null }, nodes: ReadonlyArray<{ startedAt: Date | null; finishedAt: Date | null }>): number {
  let at = Math.max(new Date(run.createdAt).getTime(), run.startedAt ? new Date(run.startedAt).getTime() : 0);
  for (const n of nodes) {
    if (n.startedAt) at = Math.max(at, new Date(n.startedAt).getTime());
    if (n.finishedAt) at = Math.max(at, new Date(n.finishedAt).getTime());
  }
  return at;
}

export interface RepairGate {
  /** Whether this read of an open run should ask Temporal. */
  shouldAsk(runId: string, lastProgressMs: number, refresh: boolean): boolean;
  /** Records that Temporal was asked now (and said the run is still open, or could not be reached). */
  asked(runId: string): void;
}

export function createRepairGate(opts: { staleMs: number; now: () => number }): RepairGate {
  const askedAt = new Map<string, number>();
  return {
    shouldAsk(runId, lastProgressMs, refresh) {
      if (refresh) return true;
      const since = Math.max(lastProgressMs, askedAt.get(runId) ?? 0);
      return opts.now() - since >= opts.staleMs;
    },
    asked(runId) {
      askedAt.delete(runId); // re-inserted last: the map's order is the order of the checks
      askedAt.set(runId, opts.now());
      if (askedAt.size > MAX_REMEMBERED) askedAt.delete(askedAt.keys().next().value!);
    },
  };
}
