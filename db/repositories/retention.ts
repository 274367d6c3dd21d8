// The purge of a tenant's runs past retention (core/retention.ts, docs/operations.md "Retention"), one bounded
// batch per call. What hangs off a run (its node rows, approvals, events and child runs) is what the tenant schema
// deletes with it (`on delete cascade` from executions); events and child runs are deleted here first, a batch at
// a time, so no statement removes more than `limit` rows of either. Call inside the tenant's scope.
import { PURGEABLE_EXECUTION_STATUSES, type RetentionCursor } from '../../core/retention';
import type { TenantScope } from '../tenant-scope';

/** When a run ended, for retention: its finish time, or its creation for a row that never recorded one. */
const ENDED_AT = 'coalesce(finished_at, created_at)';

export interface PurgeBatchResult {
  runs: number;
  executions: number;
  events: number;
  /** The ids of the executions removed (top-level and child runs), for caches that may hold them. */
  executionIds: string[];
  more: boolean;
  cursor: RetentionCursor | null;
}

export class RetentionRepository {
  constructor(private readonly scope: TenantScope) {}

  /**
   * Removes at most `limit` events, then at most `limit` executions (child runs before their parents), of the
   * next `limit` top-level runs after `cursor` that finished before `before` and have no open run below them.
   * The cursor moves past a window only once its purgeable runs are all gone; a run kept because a child is
   * still open stays behind it (the next sweep looks again).
   */
  async purgeBatch(input: { before: Date; limit: number; cursor: RetentionCursor | null }): Promise<PurgeBatchResult> {
    const m = this.scope.manager();
    const window: Array<{ id: string; at: string }> = await m.query(
      `select id, ${ENDED_AT}::text as at from executions
        where parent_execution_id is null and status = any($1::text[]) and ${ENDED_AT} < $2
          and ($3::timestamptz is null or (${ENDED_AT}, id) > ($3::timestamptz, $4::uuid))
        order by ${ENDED_AT}, id limit $5`,
      [PURGEABLE_EXECUTION_STATUSES, input.before, input.cursor?.at ?? null, input.cursor?.id ?? null, input.limit],
    );
    const done = { runs: 0, executions: 0, events: 0, executionIds: [] as string[] };
    if (window.length === 0) return { ...done, more: false, cursor: input.cursor };
    const last = window[window.length - 1] as { id: string; at: string };

    // Each root with every run below it; a root with any open run below is left alone.
    const trees: Array<{ ids: string[]; open: boolean }> = await m.query(
      `with recursive tree(root, id, status) as (
         select id, id, status from executions where id = any($1::uuid[])
         union all
         select t.root, c.id, c.status from executions c join tree t on c.parent_execution_id = t.id
       )
       select array_agg(id)::text[] as ids, bool_or(status <> all($2::text[])) as open from tree group by root`,
      [window.map((r) => r.id), PURGEABLE_EXECUTION_STATUSES],
    );
    const ids = trees.filter((t) => !t.open).flatMap((t) => t.ids);

    const [events] = (await m.query(
      `with gone as (
         delete from execution_events where (execution_id, seq) in (select execution_id, seq from execution_events where execution_id = any($1::uuid[]) limit $2)
         returning 1
       ) select count(*)::int as n from gone`,
      [ids, input.limit],
    )) as Array<{ n: number }>;
    done.events = events?.n ?? 0;
    if (done.events === input.limit) return { ...done, more: true, cursor: input.cursor };

    // Leaves first: a run goes once no run below it is left, so a map's thousands of children go a batch at a time.
    const removed: Array<{ id: string; top: boolean }> = await m.query(
      `with gone as (
         delete from executions where id in (
           select e.id from executions e where e.id = any($1::uuid[]) and not exists (select 1 from executions c where c.parent_execution_id = e.id) limit $2)
         returning id, parent_execution_id is null as top
       ) select id, top from gone`,
      [ids, input.limit],
    );
    done.executions = removed.length;
    done.runs = removed.filter((r) => r.top).length;
    done.executionIds = removed.map((r) => r.id);
    const [left] = (await m.query(`select count(*)::int as n from executions where id = any($1::uuid[])`, [ids])) as Array<{ n: number }>;
    if ((left?.n ?? 0) > 0) return { ...done, more: true, cursor: input.cursor };
    return { ...done, more: window.length === input.limit, cursor: { at: last.at, id: last.id } };
  }
}
