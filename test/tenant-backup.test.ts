// Backup and restore of one tenant (issue 15 item 6, docs/operations.md "Backup and restore of a tenant"), through
// the real commands: `tenant:backup` dumps a tenant with a finished run and a wheel in the artifact store,
// `tenant:restore` puts it into a fresh database (and data dir) made here, and an API on that database signs the
// owner in and reads the run back (its row, nodes and events) and downloads the wheel. Bad arguments are refused
// with a message that says what to do.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, ExecutionRepository, TenantScope, tenantSchemaName } from '../db';
import { singleAgentGraph } from './fixtures/graphs';
import { TEST_POSTGRES_URL } from './support/database';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startSecondApi, startTestStack, TEST_ENCRYPTION_KEY, TEST_JWT_SECRET, type TestStack } from './support/stack';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '..');
const exec = promisify(execFile);

let stack: TestStack;
let owner: TestSession;
let work: string;
let restoredName: string;
let restoredUrl: string;
let restored: DataSource | null = null;

async function admin(sql: string): Promise<void> {
  const c = new Client({ connectionString: TEST_POSTGRES_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Runs one of the commands as `npm run tenant:*` does, with the given DATABASE_URL and DATA_DIR. */
async function command(script: 'tenant-backup' | 'tenant-restore', args: string[], env: { DATABASE_URL: string; DATA_DIR: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', `${script}.ts`), ...args], {
      cwd: ROOT,
      env: { ...process.env, JWT_SECRET: TEST_JWT_SECRET, ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'tessera-tenant-backup-'));
  mkdirSync(path.join(work, 'source-data'));
  stack = await startTestStack({ dataDir: path.join(work, 'source-data') });
  owner = await registerTenant(stack);
  restoredName = `tessera_test_restored_${randomBytes(5).toString('hex')}`;
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${restoredName}`;
  restoredUrl = url.toString();
});

afterAll(async () => {
  if (restored?.isInitialized) await restored.destroy();
  await admin(`drop database if exists ${restoredName} with (force)`);
  // The tenant's role is the cluster's, shared with the source database: the stack drops it with its own.
  await stack.close();
  rmSync(work, { recursive: true, force: true });
});

it('backs a tenant up, restores it into a fresh database, and the restored API reads its run and wheel back', async () => {
  const workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'echo', model: 'echo-1' }));
  const runId = await startRun(stack, owner, workflowId, { topic: 'backups' });
  const run = await waitForExecution(stack, owner, runId);
  expect(run.status).toBe('succeeded');
  const events = (await stack.request('GET', `/api/v1/executions/${runId}/events`, { token: owner.token })).body;
  expect(events.events.length).toBeGreaterThan(3);

  // A finished export's wheel in the artifact store (the build itself is covered by test/export).
  const wheel = Buffer.from(`a wheel of ${randomBytes(8).toString('hex')}`);
  const sha256 = createHash('sha256').update(wheel).digest('hex');
  const storagePath = path.join('artifacts', 'sha256', `${sha256}.whl`);
  mkdirSync(path.join(work, 'source-data', 'artifacts', 'sha256'), { recursive: true });
  writeFileSync(path.join(work, 'source-data', storagePath), wheel);
  const exportId = '00000000-0000-4000-8000-00000000e001';
  await stack.db.dataSource.query(
    `insert into ${tenantSchemaName(owner.tenantId)}.exports (id, workflow_id, workflow_version, status, package_name, module_name, script_name, version, wheel_file, sha256, size_bytes, storage_path, temporal_workflow_id, finished_at)
     values ($1, $2, 1, 'succeeded', 'backups', 'backups', 'backups', '0.1.0', 'backups-0.1.0-py3-none-any.whl', $3, $4, $5, $6, now())`,
    [exportId, workflowId, sha256, wheel.length, storagePath, `tenant/${owner.tenantId}/export/${exportId}`],
  );

  const dir = path.join(work, 'backup');
  const backup = await command('tenant-backup', [owner.tenantId, dir], { DATABASE_URL: stack.db.url, DATA_DIR: path.join(work, 'source-data') });
  expect(backup).toMatchObject({ code: 0 });
  expect(backup.stdout).toContain(`backed up tenant ${owner.tenantId}`);
  expect(readFileSync(path.join(dir, storagePath)).equals(wheel)).toBe(true);

  const restore = await command('tenant-restore', [dir], { DATABASE_URL: restoredUrl, DATA_DIR: path.join(work, 'restored-data') });
  expect(restore).toMatchObject({ code: 0 });
  expect(restore.stdout).toContain(`restored tenant ${owner.tenantId}`);

  // Through the repositories, in the tenant's scope (its own role) on the restored database.
  restored = await createDataSource(restoredUrl, { applicationName: 'tessera-test-restored', poolSize: 2 }).initialize();
  const scope = new TenantScope(restored);
  const executions = new ExecutionRepository(scope);
  const back = await scope.run(owner.tenantId, async () => {
    const row = await executions.find(runId);
    return { row, nodes: row ? await executions.nodes(row) : [], events: await executions.events(runId, 0) };
  });
  expect(back.row).toMatchObject({ id: runId, status: 'succeeded', workflowId });
  expect(back.nodes.map((n) => [n.nodeId, n.status]).sort()).toEqual([['ask', 'succeeded'], ['out', 'succeeded'], ['start', 'succeeded']]);
  expect(back.events.map((e) => e.seq)).toEqual(events.events.map((e: { seq: number }) => e.seq));

  // Through an API on the restored database: the owner signs in with the same password and sees the same run.
  const api = await startSecondApi(stack, { dataSource: restored, dataDir: path.join(work, 'restored-data') });
  try {
    const login = await api.api.request('POST', '/api/v1/auth/login', { body: { email: owner.email, password: 'correct horse battery' } });
    expect(login.status).toBe(200);
    const token = login.body.accessToken as string;
    const seen = await api.api.request('GET', `/api/v1/executions/${runId}`, { token });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ id: runId, status: 'succeeded', outputs: run.outputs });
    expect(seen.body.nodes).toHaveLength(3);
    const seenEvents = await api.api.request('GET', `/api/v1/executions/${runId}/events`, { token });
    expect(seenEvents.body.events).toEqual(events.events);
    const download = await api.api.request('GET', `/api/v1/exports/${exportId}/download`, { token });
    expect(download.status).toBe(200);
    expect(download.body).toBe(wheel.toString());
  } finally {
    await api.close();
  }

  // Restoring the same backup again finds the tenant there and changes nothing.
  const again = await command('tenant-restore', [dir], { DATABASE_URL: restoredUrl, DATA_DIR: path.join(work, 'restored-data') });
  expect(again.code).toBe(2);
  expect(again.stderr).toContain(`tenant ${owner.tenantId} already exists in the target database`);
});

it('refuses bad arguments with a message saying what to do', async () => {
  const env = { DATABASE_URL: stack.db.url, DATA_DIR: path.join(work, 'source-data') };
  const usage = await command('tenant-backup', [], env);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('usage: npm run tenant:backup -- <tenantId> <dir>');
  const notAnId = await command('tenant-backup', ['acme', path.join(work, 'x')], env);
  expect(notAnId.stderr).toContain('"acme" is not a tenant id');
  const unknown = await command('tenant-backup', ['00000000-0000-4000-8000-000000000bad', path.join(work, 'y')], env);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('there is no tenant 00000000-0000-4000-8000-000000000bad in this database');
  const full = await command('tenant-backup', [owner.tenantId, path.join(work, 'backup')], env);
  expect(full.stderr).toContain('is not empty: back up into a new or empty directory');
  const noBackup = await command('tenant-restore', [path.join(work, 'source-data')], env);
  expect(noBackup.code).toBe(2);
  expect(noBackup.stderr).toContain('holds no tenant backup');
  const restoreUsage = await command('tenant-restore', [], env);
  expect(restoreUsage.stderr).toContain('usage: npm run tenant:restore -- <dir>');
});
