// What a client or a dependency can do to the API process that no handler expected: a WebSocket upgrade
// whose target is no URL, sockets that send garbage or vanish mid-frame or mid-download, a reset while the
// token is checked, Redis gone, PostgreSQL ending the pool's connections. The API answers or logs each one and
// stays the same process, still serving.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import pino from 'pino';
import WebSocket from 'ws';
import type { ExecutionRepository, TenantScope } from '../db';
import { tenantSchemaName } from '../db';
import { createWsHub } from '../server/ws/hub';
import { freePorts } from './global-setup';
import { insertExportFixture } from './support/export-fixture';
import { killAllTessera, spawnTessera, stackEnv, writeWorkflowBundle, type TesseraProcess } from './support/processes';
import { createWorkflow, registerTenant, type TestSession } from './support/session';
import { apiClient, startTestStack, TEST_ENCRYPTION_KEY, TEST_JWT_SECRET, TEST_REDIS_URL, type ApiClient, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';

jest.setTimeout(180_000);

let stack: TestStack;
let dataDir: string;
let bundlePath: string;
let api: TesseraProcess;
let apiUrl: string;
let client: ApiClient;
let owner: TestSession;

async function spawnApi(extra: Record<string, string> = {}): Promise<{ proc: TesseraProcess; url: string }> {
  const [port] = (await freePorts(1)) as [number];
  const proc = spawnTessera('api', {
    ...stackEnv(stack, bundlePath),
    PORT: String(port),
    JWT_SECRET: TEST_JWT_SECRET,
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    DATA_DIR: dataDir,
    ...extra,
  });
  await proc.ready;
  return { proc, url: `http://127.0.0.1:${port}` };
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-api-faults-'));
  stack = await startTestStack({ worker: false, dataDir });
  bundlePath = writeWorkflowBundle(stack.workflowBundle, path.join(dataDir, 'workflow-bundle.js'));
  ({ proc: api, url: apiUrl } = await spawnApi());
  client = apiClient(apiUrl);
  owner = await registerTenant(client);
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The same process, and it answers. */
async function expectServing(proc: TesseraProcess, url: string, pid: number): Promise<void> {
  expect({ pid: proc.child.pid, exitCode: proc.child.exitCode, signal: proc.child.signalCode }).toEqual({ pid, exitCode: null, signal: null });
  const res = await fetch(`${url}/health/live`);
  expect(res.status).toBe(200);
}

/** Sends raw bytes on a fresh TCP connection and returns what the server answered before it closed. */
async function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let answer = '';
  socket.on('data', (d) => (answer += d.toString()));
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(request);
  await once(socket, 'close');
  return answer;
}

const UPGRADE_HEADERS = 'Host: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

it('answers 400 to a WebSocket upgrade whose request target is no URL, and keeps serving', async () => {
  const pid = api.child.pid!;
  const upgrade = await rawExchange(apiUrl, `GET //[ HTTP/1.1\r\n${UPGRADE_HEADERS}\r\n`);
  expect(upgrade).toMatch(/^HTTP\/1\.1 400 /);
  expect(upgrade).toContain('"code":"BAD_REQUEST"');
  const plain = await rawExchange(apiUrl, 'GET //[ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  expect(plain).toMatch(/^HTTP\/1\.1 \d{3} /); // an answer (the SPA's fallback, or 404 without a web build)
  await expectServing(api, apiUrl, pid);
});

it('survives WebSocket clients that send garbage, too much, bad frames, or vanish mid-frame', async () => {
  const pid = api.child.pid!;
  const wsUrl = `${apiUrl.replace('http', 'ws')}/api/v1/ws?token=${encodeURIComponent(owner.token)}`;
  const open = async () => {
    const ws = new WebSocket(wsUrl);
    ws.on('error', () => undefined); // the server may cut a misbehaving client off: that is the point
    await once(ws, 'open');
    return ws;
  };
  const closedBy = async (ws: WebSocket) => (await once(ws, 'close'))[0] as number;

  const garbage = await open();
  const answers: unknown[] = [];
  garbage.on('message', (d) => answers.push(JSON.parse(d.toString())));
  garbage.send('not json at all');
  garbage.send(randomBytes(512));
  garbage.send(JSON.stringify({ type: 'subscribe', executionId: 'nope', afterSeq: 'x' }));
  await waitUntil('three BAD_MESSAGE answers', () => answers.length >= 3);
  expect(answers).toEqual(Array(3).fill(expect.objectContaining({ type: 'error', code: 'BAD_MESSAGE' })));
  garbage.close();

  const tooMuch = await open();
  tooMuch.send('x'.repeat(100 * 1024)); // above the hub's 64 KiB maxPayload
  expect(await closedBy(tooMuch)).toBe(1009);

  const invalidUtf8 = await open();
  invalidUtf8.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: false });
  expect(await closedBy(invalidUtf8)).toBe(1007);

  // A client that starts a frame and is gone before it ends it, and one that sends an unmasked frame.
  const vanished = await open();
  const rawVanished = (vanished as unknown as { _socket: Socket })._socket;
  rawVanished.write(Buffer.from([0x81, 0xfe, 0x40, 0x00, 0x01, 0x02, 0x03, 0x04, 0x61]));
  rawVanished.destroy();
  const unmasked = await open();
  (unmasked as unknown as { _socket: Socket })._socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
  expect(await closedBy(unmasked)).toBe(1002); // protocol error

  // Still the same process, and a well-behaved client still gets answers.
  await expectServing(api, apiUrl, pid);
  const good = await open();
  const pong = new Promise((resolve) => good.on('message', (d) => resolve(JSON.parse(d.toString()))));
  good.send(JSON.stringify({ type: 'ping' }));
  expect(await pong).toEqual({ type: 'pong' });
  good.close();
});

it('closes the wheel file when a client leaves in the middle of a download', async () => {
  const pid = api.child.pid!;
  const workflowId = await createWorkflow(client, owner, {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: {} } },
      { id: 'out', type: 'output', position: { x: 0, y: 0 }, data: { value: 'x' } },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'out' }],
  });
  const { exportId } = await insertExportFixture(stack, owner.tenantId, workflowId);
  const storagePath = path.join('artifacts', 'sha256', `${'ab'.repeat(32)}.whl`);
  const wheel = path.join(dataDir, storagePath);
  mkdirSync(path.dirname(wheel), { recursive: true });
  const size = 64 * 1024 * 1024; // far more than socket buffers hold: the download cannot be done when we leave
  writeFileSync(wheel, Buffer.alloc(size, 1));
  await stack.db.dataSource.query(
    `update ${tenantSchemaName(owner.tenantId)}.exports set storage_path = $1, wheel_file = 'fixture_pkg-1-py3-none-any.whl', sha256 = $2, size_bytes = $3 where id = $4`,
    [storagePath, 'ab'.repeat(32), size, exportId],
  );
  const openWheels = () =>
    readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === wheel;
      } catch {
        return false; // closed while we looked
      }
    }).length;

  const abort = new AbortController();
  const res = await fetch(`${apiUrl}/api/v1/exports/${exportId}/download`, { headers: { authorization: `Bearer ${owner.token}` }, signal: abort.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read();
  expect(openWheels()).toBe(1);
  abort.abort();
  await reader.read().catch(() => undefined);
  await waitUntil('the API closed the wheel file after the client left', () => openWheels() === 0, { timeoutMs: 30_000 });
  await expectServing(api, apiUrl, pid);
});

it('logs PostgreSQL ending its pooled connections and answers again with new ones', async () => {
  const pid = api.child.pid!;
  // Idle pooled connections end after pg's idle timeout, so make sure there is one, then end it.
  await waitUntil(
    'an idle API connection was terminated',
    async () => {
      await fetch(`${apiUrl}/health/ready`);
      const rows: unknown[] = await stack.db.dataSource.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = 'tessera-api' and state = 'idle'`,
        [stack.db.name],
      );
      return rows.length > 0;
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  await waitUntil('the pool error was logged', () => api.output().includes('an idle pooled connection failed'), { timeoutMs: 30_000 });
  await expectServing(api, apiUrl, pid);
  const ready = await fetch(`${apiUrl}/health/ready`);
  expect(((await ready.json()) as { checks: { database: { ok: boolean } } }).checks.database.ok).toBe(true);
});

it('starts and keeps serving while Redis is unreachable, and says so once per client in its log', async () => {
  const [deadPort] = (await freePorts(1)) as [number];
  const { proc, url } = await spawnApi({ REDIS_URL: `redis://127.0.0.1:${deadPort}` });
  const pid = proc.child.pid!;
  await waitUntil('both Redis clients reported the outage', () => proc.output().includes('"client":"redis"') && proc.output().includes('"client":"redis subscriber"'), { timeoutMs: 30_000 });
  const ready = await fetch(`${url}/health/ready`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { checks: { redis: { ok: boolean } } }).checks.redis.ok).toBe(false);
  // A request that needs Redis (the rate limiter) fails as a request, not as the process.
  const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'a@example.com', password: 'x' }) });
  expect(login.status).toBe(500);
  await expectServing(proc, url, pid);
  expect(proc.output()).not.toContain('[ioredis] Unhandled error event');
  expect(proc.output().match(/"client":"redis"/g)).toHaveLength(1);
  await proc.kill('SIGTERM');
});

it('a worker or API that cannot reach PostgreSQL at start exits 1 naming the address', async () => {
  const [deadPort] = (await freePorts(1)) as [number];
  for (const kind of ['worker', 'api'] as const) {
    const proc = spawnTessera(kind, { ...stackEnv(stack, bundlePath), DATABASE_URL: `postgres://app:s3cret@127.0.0.1:${deadPort}/tessera` });
    proc.ready.catch(() => undefined); // it never gets ready: that is the point
    const [code] = (await once(proc.child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(proc.output()).toContain(`could not connect to PostgreSQL at postgres://app:***@127.0.0.1:${deadPort}/tessera`);
    expect(proc.output()).not.toContain('s3cret');
  }
});

describe('a client that resets its connection while its token is being checked', () => {
  let server: Server;
  let subscriber: Redis;
  let release: (() => void) | null = null;
  let verifying: Promise<void>;

  beforeAll(async () => {
    server = createServer();
    subscriber = new Redis(TEST_REDIS_URL);
    let started!: () => void;
    verifying = new Promise<void>((resolve) => (started = resolve));
    // Holds every token check until the test lets it go, so the reset lands while it is pending.
    const verifyToken = () =>
      new Promise<never>((_, reject) => {
        started();
        release = () => reject(new Error('expired'));
      });
    createWsHub({ server, path: '/ws', verifyToken, subscriber, scope: {} as TenantScope, executions: {} as ExecutionRepository, logger: pino({ level: 'silent' }) });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    subscriber.disconnect();
  });

  it('raises nothing on the server, which goes on answering upgrades', async () => {
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write(`GET /ws?token=t HTTP/1.1\r\n${UPGRADE_HEADERS}\r\n`);
    await verifying;
    socket.resetAndDestroy();
    await once(socket, 'close');
    // Give the reset time to reach the server's side of the socket before the check ends and writes to it.
    await waitUntil('the server saw the reset', async () => {
      const connections = await new Promise<number>((resolve) => server.getConnections((_, n) => resolve(n)));
      return connections === 0;
    });
    release!();
    const answer = await rawExchange(`http://127.0.0.1:${port}`, `GET /elsewhere HTTP/1.1\r\n${UPGRADE_HEADERS}\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
  });
});
