// The secrets of a stack started without JWT_SECRET and ENCRYPTION_KEY: `npm start` (scripts/start.mjs) generates
// them once into DATA_DIR/secrets/stack.json (0600, in a 0700 directory), says where (never what), and reuses
// them on every later start; an API started by hand reads the same file, so a token it signed is still good
// after a restart; and without secrets and without the file it refuses to start, saying what to set.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from './global-setup';
import { createTestDatabase, type TestDatabase } from './support/database';
import { killAllTessera, spawnTessera } from './support/processes';
import { registerTenant } from './support/session';
import { apiClient, TEST_REDIS_URL } from './support/stack';
import { testTemporalAddress } from './support/temporal';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '..');
const UNSET = { JWT_SECRET: '', ENCRYPTION_KEY: '' };

let db: TestDatabase;
let dataDir: string;

/** start.mjs up to its first check of the machine: Postgres at a port nothing listens on, so it stops there. */
async function startUntilPostgres(): Promise<{ code: number; output: string }> {
  try {
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'scripts', 'start.mjs')], {
      cwd: ROOT,
      env: { ...process.env, ...UNSET, NO_COLOR: '1', DATA_DIR: dataDir, DATABASE_URL: 'postgres://postgres@127.0.0.1:9/tessera' },
    });
    return { code: 0, output: '' };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

async function startApi(env: Record<string, string>) {
  const [port] = (await freePorts(1)) as [number];
  const api = spawnTessera('api', { ...UNSET, DATA_DIR: dataDir, DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, TEMPORAL_ADDRESS: testTemporalAddress(), PORT: String(port), ...env });
  return { api, client: apiClient(`http://127.0.0.1:${port}`) };
}

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-stack-secrets-'));
});

afterAll(async () => {
  killAllTessera();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('refuses to start an API without secrets and without the generated file, saying what to set', async () => {
  const { api } = await startApi({});
  await expect(api.ready).rejects.toThrow(/JWT_SECRET: not set: set JWT_SECRET \(e\.g\. `openssl rand -hex 32`\), or start with `npm start`/);
  expect(api.output()).toMatch(/ENCRYPTION_KEY: not set/);
});

it('npm start generates the secrets once, owner-only, and reuses them on the next start', async () => {
  const file = path.join(dataDir, 'secrets', 'stack.json');
  const first = await startUntilPostgres();
  expect(first.output).toContain(`generated JWT_SECRET and ENCRYPTION_KEY into ${file} (owner-only, mode 0600)`);
  expect(first.output).toMatch(/Postgres is not reachable/);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  const written = readFileSync(file, 'utf8');
  const secrets = JSON.parse(written) as { JWT_SECRET: string; ENCRYPTION_KEY: string };
  // The log says where, never what.
  expect(first.output).not.toContain(secrets.JWT_SECRET);
  expect(first.output).not.toContain(secrets.ENCRYPTION_KEY);

  const second = await startUntilPostgres();
  expect(second.output).toContain(`using JWT_SECRET and ENCRYPTION_KEY from ${file}`);
  expect(readFileSync(file, 'utf8')).toBe(written);
});

it('an API started by hand uses the generated file, so its tokens survive a restart', async () => {
  const first = await startApi({});
  await first.api.ready;
  const session = await registerTenant(first.client);
  expect((await first.client.request('GET', '/api/v1/workflows', { token: session.token })).status).toBe(200);
  await first.api.kill('SIGTERM');

  const second = await startApi({});
  await second.api.ready;
  expect((await second.client.request('GET', '/api/v1/workflows', { token: session.token })).status).toBe(200);
  // Another secret would not accept it: the token really was checked.
  const other = await startApi({ JWT_SECRET: 'another-jwt-secret-of-enough-length' });
  await other.api.ready;
  expect((await other.client.request('GET', '/api/v1/workflows', { token: session.token })).status).toBe(401);
});
