// Paging GET /api/v1/executions by cursor: every run once, newest first, however many runs share a
// millisecond (PostgreSQL keeps created_at to the microsecond; a cursor cut to milliseconds skipped the
// rest of the millisecond it ended in).
import { tenantSchemaName } from '../db';
import { fanOutGraph } from './fixtures/graphs';
import { createWorkflow, registerTenant, startRun, type TestSession } from './support/session';
import { startTestStack, type ApiResponse, type TestStack } from './support/stack';

jest.setTimeout(120_000);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});

afterAll(async () => {
  await stack?.close();
});

/** Starts `count` runs of one workflow; the runs stay pending (no worker), which is all a list needs. */
async function startRuns(owner: TestSession, count: number): Promise<{ workflowId: string; ids: string[] }> {
  const workflowId = await createWorkflow(stack, owner, fanOutGraph(0));
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await startRun(stack, owner, workflowId, { topic: `page ${i}` }));
  return { workflowId, ids };
}

/** Every id of every page of `path`, following nextCursor to the end. */
async function pageThrough(owner: TestSession, path: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  for (let cursor: string | null = null; ; ) {
    const sep = path.includes('?') ? '&' : '?';
    const res: ApiResponse = await stack.request('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: owner.token });
    expect(res.status).toBe(200);
    pages += 1;
    ids.push(...res.body.items.map((e: { id: string }) => e.id));
    cursor = res.body.nextCursor;
    if (!cursor) return { ids, pages };
    if (pages > 100) throw new Error('paging does not end');
  }
}

/** The tenant's runs as the database orders them: created_at to the microsecond, then id, newest first. */
async function storedOrder(owner: TestSession): Promise<string[]> {
  const rows: { id: string }[] = await stack.db.dataSource.query(`select id from ${tenantSchemaName(owner.tenantId)}.executions order by created_at desc, id desc`);
  return rows.map((r) => r.id);
}

it('pages through runs created within one millisecond: each run exactly once, newest first', async () => {
  const owner = await registerTenant(stack);
  const { ids } = await startRuns(owner, 13);
  // As runs started at once land: all in the same millisecond, some a microsecond apart, some at the very
  // same microsecond (one transaction's now()).
  await stack.db.dataSource.query(
    `update ${tenantSchemaName(owner.tenantId)}.executions e
        set created_at = timestamptz '2026-03-01T12:00:00.123000Z' + (n.i / 2) * interval '1 microsecond'
       from (select id, row_number() over (order by id) as i from ${tenantSchemaName(owner.tenantId)}.executions) n
      where n.id = e.id`,
  );

  const paged = await pageThrough(owner, '/api/v1/executions', 4);
  expect(paged.pages).toBe(4);
  expect(new Set(paged.ids).size).toBe(paged.ids.length);
  expect([...paged.ids].sort()).toEqual([...ids].sort());
  expect(paged.ids).toEqual(await storedOrder(owner));
});

it('pages through a filtered list the same way, and never into another tenant', async () => {
  const owner = await registerTenant(stack);
  const other = await registerTenant(stack);
  const mine = await startRuns(owner, 7);
  await startRuns(owner, 2); // another workflow of the same tenant, filtered out
  const theirs = await startRuns(other, 3);
  for (const t of [owner, other]) {
    await stack.db.dataSource.query(`update ${tenantSchemaName(t.tenantId)}.executions set created_at = timestamptz '2026-03-01T12:00:00.500500Z'`);
  }

  const paged = await pageThrough(owner, `/api/v1/executions?workflowId=${mine.workflowId}`, 2);
  expect([...paged.ids].sort()).toEqual([...mine.ids].sort());
  expect(paged.ids).toHaveLength(7);

  // A cursor handed to another tenant pages that tenant's own runs only.
  const first = await stack.request('GET', '/api/v1/executions?limit=2', { token: owner.token });
  const cross = await stack.request('GET', `/api/v1/executions?limit=50&cursor=${encodeURIComponent(first.body.nextCursor)}`, { token: other.token });
  expect(cross.status).toBe(200);
  const seen: string[] = cross.body.items.map((e: { id: string }) => e.id);
  expect(seen.every((id) => theirs.ids.includes(id))).toBe(true);
  expect(seen.some((id) => mine.ids.includes(id))).toBe(false);
});

it('refuses a cursor it did not hand out with 400', async () => {
  const owner = await registerTenant(stack);
  for (const cursor of ['nope', Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url'), Buffer.from(JSON.stringify(['2026-03-01T12:00:00.1234567Z', '00000000-0000-0000-0000-000000000000'])).toString('base64url')]) {
    const res = await stack.request('GET', `/api/v1/executions?cursor=${cursor}`, { token: owner.token });
    expect({ cursor, status: res.status, code: res.body.error?.code }).toEqual({ cursor, status: 400, code: 'VALIDATION_FAILED' });
  }
});
