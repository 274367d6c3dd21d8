// The one event log of runs and exports (db/event-log.ts) against a real, migrated database: appends are
// idempotent per key (stored keys and keys repeated in a batch), the sequence is gapless per owner, and
// `after` pages through it.
import { randomUUID } from 'node:crypto';
import { AccountRepository, EventLog, EventLogOwnerNotFound, EXECUTION_LOG, EXPORT_LOG, TenantScope, tenantSchemaName } from '../db';
import { tenantMigrations } from '../migrations/tenant';
import type { NewExecutionEvent } from '../core/events';
import { createTestDatabase, type TestDatabase } from './support/database';

let db: TestDatabase;
let scope: TenantScope;
let tenantId: string;
let executionId: string;
let exportId: string;

const at = '2026-12-01T12:00:00.000Z';
const started = (key?: string, nodeId?: string): NewExecutionEvent => ({ type: 'node.started', at, ...(nodeId ? { nodeId } : {}), ...(key ? { key } : {}) });

beforeAll(async () => {
  db = await createTestDatabase('tessera_eventlog');
  scope = new TenantScope(db.dataSource);
  const accounts = new AccountRepository(db.dataSource, tenantMigrations);
  const { tenant } = await accounts.provisionTenant({ tenantName: 'Log', slug: `log-${randomUUID().slice(0, 8)}`, owner: { email: 'log@example.com', name: 'Log', passwordHash: 'x' } });
  tenantId = tenant.id;
  const schema = tenantSchemaName(tenantId);
  const workflowId = randomUUID();
  executionId = randomUUID();
  exportId = randomUUID();
  await db.dataSource.query(`insert into ${schema}.workflows (id, name, current_version) values ($1, 'w', 1)`, [workflowId]);
  await db.dataSource.query(
    `insert into ${schema}.executions (id, workflow_id, workflow_version, status, inputs, plan, temporal_workflow_id) values ($1, $2, 1, 'running', '{}', '{"nodes": []}', 'x')`,
    [executionId, workflowId],
  );
  await db.dataSource.query(
    `insert into ${schema}.exports (id, workflow_id, workflow_version, status, package_name, module_name, script_name, version, temporal_workflow_id, created_by)
     values ($1, $2, 1, 'building', 'p', 'p', 'p', '1.0.0', 'y', 'test')`,
    [exportId, workflowId],
  );
});

afterAll(async () => {
  await db?.drop();
});

describe('the event log', () => {
  it('numbers events after the owner\'s last seq and skips keys already stored or repeated in the batch', async () => {
    const log = new EventLog(scope, EXECUTION_LOG);
    const first = await scope.run(tenantId, () => log.append(executionId, [started('a', 'n1'), started(undefined, 'n2'), started('a', 'n1'), started('b', 'n3')]));
    expect(first.map((e) => [e.seq, e.nodeId])).toEqual([[1, 'n1'], [2, 'n2'], [3, 'n3']]);
    expect(first[0]).toEqual({ seq: 1, executionId, type: 'node.started', nodeId: 'n1', at });
    // A retried activity sends its batch again: nothing is stored twice, and what is new follows on.
    const retried = await scope.run(tenantId, () => log.append(executionId, [started('a', 'n1'), started('b', 'n3'), { type: 'node.succeeded', at, nodeId: 'n1', key: 'c', data: { ok: true } }]));
    expect(retried).toEqual([{ seq: 4, executionId, type: 'node.succeeded', nodeId: 'n1', at, data: { ok: true } }]);
    expect(await scope.run(tenantId, () => log.append(executionId, [started('a'), started('c')]))).toEqual([]);
    const [row] = await db.dataSource.query(`select last_seq from ${tenantSchemaName(tenantId)}.executions where id = $1`, [executionId]);
    expect(row.last_seq).toBe(4);
  });

  it('pages with after(ownerId, seq, limit)', async () => {
    const log = new EventLog(scope, EXECUTION_LOG);
    const seqs = async (after: number, limit: number) => (await scope.run(tenantId, () => log.after(executionId, after, limit))).map((e) => e.seq);
    expect(await seqs(0, 2)).toEqual([1, 2]);
    expect(await seqs(2, 10)).toEqual([3, 4]);
    expect(await seqs(4, 10)).toEqual([]);
    expect(await scope.run(tenantId, () => log.after(randomUUID(), 0, 10))).toEqual([]);
  });

  it('keeps a gapless sequence under concurrent appends to one owner', async () => {
    const log = new EventLog(scope, EXPORT_LOG);
    await Promise.all(Array.from({ length: 10 }, (_, i) => scope.run(tenantId, () => log.append(exportId, [{ type: 'export.started', at, key: `k${i}` }, { type: 'export.rendered', at }]))));
    const stored = await scope.run(tenantId, () => log.after(exportId, 0, 100));
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(stored.every((e) => e.executionId === exportId && e.nodeId === undefined)).toBe(true);
  });

  it('refuses an owner that does not exist in the tenant', async () => {
    const log = new EventLog(scope, EXECUTION_LOG);
    await expect(scope.run(tenantId, () => log.append(randomUUID(), [started('z')]))).rejects.toBeInstanceOf(EventLogOwnerNotFound);
  });
});
