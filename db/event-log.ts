// The one event log of runs and exports: an append-only, gapless, per-owner sequence of events in the
// tenant's schema (`execution_events` by `executions`, `export_events` by `exports`). `append` is
// idempotent per event key, so a retried activity never records an event twice; `after` pages through
// what is stored. Both run inside the caller's tenant scope (its transaction).
import type { ExecutionEvent, NewExecutionEvent } from '../core/events';
import type { TenantScope } from './tenant-scope';

/** Where one kind of owner keeps its events: fixed names from this module, never user input. */
interface LogTables {
  /** The owner's table, with `id` and the `last_seq` the log advances. */
  owners: 'executions' | 'exports';
  events: 'execution_events' | 'export_events';
  ownerColumn: 'execution_id' | 'export_id';
  /** export_events has no node_id column. */
  hasNodeId: boolean;
}

export const EXECUTION_LOG: LogTables = { owners: 'executions', events: 'execution_events', ownerColumn: 'execution_id', hasNodeId: true };
export const EXPORT_LOG: LogTables = { owners: 'exports', events: 'export_events', ownerColumn: 'export_id', hasNodeId: false };

export class EventLogOwnerNotFound extends Error {
  override name = 'EventLogOwnerNotFound';
}

interface EventRowOut {
  seq: number;
  type: ExecutionEvent['type'];
  node_id?: string | null;
  at: Date;
  data: Record<string, unknown> | null;
}

function toEvent(ownerId: string, row: EventRowOut): ExecutionEvent {
  return {
    seq: row.seq,
    executionId: ownerId,
    type: row.type,
    ...(row.node_id ? { nodeId: row.node_id } : {}),
    at: new Date(row.at).toISOString(),
    ...(row.data ? { data: row.data } : {}),
  };
}

export class EventLog {
  constructor(
    private readonly scope: TenantScope,
    private readonly tables: LogTables,
  ) {}

  /**
   * Appends the events whose key is not stored yet (nor repeated earlier in the batch), numbered after the
   * owner's `last_seq`, and returns them in seq order (what to publish). Locks the owner's row for the rest of
   * the transaction: that lock is what keeps the sequence gapless between concurrent writers.
   */
  async append(ownerId: string, events: readonly NewExecutionEvent[]): Promise<ExecutionEvent[]> {
    const { owners, events: table, ownerColumn, hasNodeId } = this.tables;
    const m = this.scope.manager();
    const [owner] = (await m.query(`select last_seq from ${owners} where id = $1 for update`, [ownerId])) as Array<{ last_seq: number }>;
    if (!owner) throw new EventLogOwnerNotFound(`${owners} ${ownerId} not found`);
    if (!events.length) return [];
    const keys = events.map((e) => e.key).filter((k): k is string => Boolean(k));
    const seen = new Set<string>();
    if (keys.length) {
      const stored = (await m.query(`select dedupe_key from ${table} where ${ownerColumn} = $1 and dedupe_key = any($2)`, [ownerId, keys])) as Array<{ dedupe_key: string }>;
      for (const r of stored) seen.add(r.dedupe_key);
    }
    const fresh = events.filter((e) => {
      if (!e.key) return true;
      if (seen.has(e.key)) return false;
      seen.add(e.key);
      return true;
    });
    if (!fresh.length) return [];
    let seq = owner.last_seq;
    const appended = fresh.map((e) => ({ seq: ++seq, type: e.type, node_id: e.nodeId ?? null, at: new Date(e.at), data: e.data ?? null, key: e.key ?? null }));
    // One statement for the batch, one array per column (a 2,000-node run appends thousands of events).
    const columns: Array<[name: string, sqlType: string, values: unknown[]]> = [
      ['seq', 'int', appended.map((e) => e.seq)],
      ['type', 'text', appended.map((e) => e.type)],
      ...(hasNodeId ? [['node_id', 'text', appended.map((e) => e.node_id)] as [string, string, unknown[]]] : []),
      ['at', 'timestamptz', appended.map((e) => e.at.toISOString())],
      ['data', 'jsonb', appended.map((e) => (e.data === null ? null : JSON.stringify(e.data)))],
      ['dedupe_key', 'text', appended.map((e) => e.key)],
    ];
    await m.query(
      `insert into ${table} (${ownerColumn}, ${columns.map(([name]) => name).join(', ')})
       select $1, * from unnest(${columns.map(([, type], i) => `$${i + 2}::${type}[]`).join(', ')})`,
      [ownerId, ...columns.map(([, , values]) => values)],
    );
    await m.query(`update ${owners} set last_seq = $2 where id = $1`, [ownerId, seq]);
    return appended.map((e) => toEvent(ownerId, e));
  }

  /** Up to `limit` stored events with seq > `afterSeq`, in seq order. */
  async after(ownerId: string, afterSeq: number, limit: number): Promise<ExecutionEvent[]> {
    const { events: table, ownerColumn, hasNodeId } = this.tables;
    const rows = (await this.scope
      .manager()
      .query(`select seq, type, ${hasNodeId ? 'node_id, ' : ''}at, data from ${table} where ${ownerColumn} = $1 and seq > $2 order by seq limit $3`, [ownerId, afterSeq, limit])) as EventRowOut[];
    return rows.map((r) => toEvent(ownerId, r));
  }
}
