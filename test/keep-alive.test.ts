// HTTP keep-alive as real clients and load balancers use it: the API process (server/main.ts, spawned as
// `npm run api` runs it) keeps an idle connection open past the 60 s idle timeouts they assume, so a request
// sent after a pause reuses the socket instead of failing with "other side closed"; and the timeout is
// the one HTTP_KEEP_ALIVE_TIMEOUT_SECONDS configures.
import http from 'node:http';
import type { Socket } from 'node:net';
import { freePorts } from './global-setup';
import { createTestDatabase, type TestDatabase } from './support/database';
import { killAllTessera, spawnTessera, type TesseraProcess } from './support/processes';
import { TEST_REDIS_URL } from './support/stack';
import { testTemporalAddress } from './support/temporal';

jest.setTimeout(120_000);

let db: TestDatabase;

interface Answer {
  status: number;
  keepAlive: string | undefined;
  socket: Socket;
  reusedSocket: boolean;
}

function get(agent: http.Agent, port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, keepAlive: res.headers['keep-alive']?.toString(), socket: req.socket as Socket, reusedSocket: req.reusedSocket }));
    });
    req.once('error', reject);
  });
}

async function startApi(env: Record<string, string> = {}): Promise<{ api: TesseraProcess; port: number }> {
  const [port] = (await freePorts(1)) as [number];
  const api = spawnTessera('api', { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, TEMPORAL_ADDRESS: testTemporalAddress(), PORT: String(port), ...env });
  await api.ready;
  return { api, port };
}

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  killAllTessera();
  await db?.drop();
});

it('answers two requests on one kept-alive connection 10 s apart', async () => {
  const { api, port } = await startApi();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await get(agent, port, '/health/live');
    expect(first.status).toBe(200);
    expect(first.keepAlive).toBe('timeout=65');
    // The pause is the input of this test: longer than Node's 5 s default, which closed the socket first.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const second = await get(agent, port, '/health/live');
    expect(second.status).toBe(200);
    expect(second.reusedSocket).toBe(true);
    expect(second.socket).toBe(first.socket);
  } finally {
    agent.destroy();
    await api.kill('SIGTERM');
  }
});

it('closes an idle connection after the configured HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', async () => {
  const { api, port } = await startApi({ HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '1', HTTP_HEADERS_TIMEOUT_SECONDS: '2' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const answer = await get(agent, port, '/health/live');
    expect(answer.keepAlive).toBe('timeout=1');
    // The server, not the client, ends the idle socket (the agent would keep it for as long as it lives).
    await new Promise((resolve) => answer.socket.once('close', resolve));
    const next = await get(agent, port, '/health/live');
    expect(next.status).toBe(200);
    expect(next.reusedSocket).toBe(false);
  } finally {
    agent.destroy();
    await api.kill('SIGTERM');
  }
});
