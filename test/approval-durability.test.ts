// An approval outlives every process: the worker and the API are both killed with SIGKILL while a run
// waits; after a restart the approval is still pending, deciding it completes the run, and nothing before
// the approval runs again.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { killAllTessera, spawnTessera, stackEnv, writeWorkflowBundle, type TesseraProcess } from './support/processes';
import { startTestStack, type TestStack } from './support/stack';

jest.setTimeout(180_000);

let stack: TestStack;
let fake: FakeLlmServer;
let bundleDir: string;
let env: Record<string, string>;
let apiUrl: string;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function api(method: string, p: string, token?: string, body?: unknown) {
  const res = await fetch(`${apiUrl}${p}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

function startProcesses(): { worker: TesseraProcess; api: TesseraProcess } {
  return { worker: spawnTessera('worker', env), api: spawnTessera('api', env) };
}

beforeAll(async () => {
  fake = await startFakeLlmServer();
  // The stack gives this file its database, task queue and workflow bundle; the processes under test are
  // the real entry points started below.
  stack = await startTestStack({ worker: false });
  bundleDir = mkdtempSync(path.join(tmpdir(), 'tessera-bundle-'));
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  env = {
    ...stackEnv(stack, writeWorkflowBundle(stack.workflowBundle, path.join(bundleDir, 'bundle.js'))),
    PORT: String(port),
    OPENAI_API_KEY: 'test-openai-key',
    OPENAI_BASE_URL: fake.openaiBaseURL,
    JWT_SECRET: 'approval-durability-secret-0123456789',
  };
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  await fake?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

it('keeps a pending approval through a SIGKILL of worker and API, and finishes once it is decided', async () => {
  let procs = startProcesses();
  await Promise.all([procs.worker.ready, procs.api.ready]);

  const reg = await api('POST', '/api/v1/auth/register', undefined, { tenantName: 'Durable Approvals', email: 'durable@example.com', password: 'long enough password' });
  expect(reg.status).toBe(201);
  const token: string = reg.body.accessToken;
  const graph = {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: {} } },
      { id: 'research', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'openai', model: 'approval-research', prompt: 'Research' } },
      { id: 'review', type: 'approval', position: { x: 400, y: 0 }, data: { title: 'Go?', timeoutSeconds: 7 * 24 * 3600, onTimeout: 'reject' } },
      { id: 'out', type: 'output', position: { x: 600, y: 0 }, data: { value: '{{nodes.research.text}} / {{nodes.review.comment}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'research' },
      { id: 'e2', source: 'research', target: 'review' },
      { id: 'e3', source: 'review', sourceHandle: 'approved', target: 'out' },
    ],
  };
  const created = await api('POST', '/api/v1/workflows', token, { name: 'Durable', graph });
  const started = await api('POST', `/api/v1/workflows/${created.body.id}/executions`, token, { inputs: {} });
  expect(started.status).toBe(202);
  const executionId: string = started.body.id;

  const deadline = Date.now() + 60_000;
  let pending: any[] = [];
  while (Date.now() < deadline && !pending.length) {
    pending = (await api('GET', '/api/v1/approvals?status=pending', token)).body.items;
    if (!pending.length) await new Promise((r) => setTimeout(r, 200));
  }
  expect(pending.map((a) => a.executionId)).toEqual([executionId]);

  await Promise.all([procs.worker.kill('SIGKILL'), procs.api.kill('SIGKILL')]);
  procs = startProcesses();
  await Promise.all([procs.worker.ready, procs.api.ready]);

  const afterRestart = await api('GET', '/api/v1/approvals?status=pending', token);
  expect(afterRestart.body.items).toHaveLength(1);
  expect(afterRestart.body.items[0]).toMatchObject({ executionId, nodeId: 'review', status: 'pending', canDecide: true });
  expect((await api('GET', `/api/v1/executions/${executionId}`, token)).body.status).toBe('waiting');

  const decided = await api('POST', `/api/v1/executions/${executionId}/approvals/review`, token, { decision: 'approve', comment: 'after the crash' });
  expect(decided.status).toBe(200);

  let run: any;
  const end = Date.now() + 60_000;
  do {
    run = (await api('GET', `/api/v1/executions/${executionId}`, token)).body;
    if (run.status !== 'succeeded') await new Promise((r) => setTimeout(r, 200));
  } while (run.status !== 'succeeded' && Date.now() < end);
  expect(run.status).toBe('succeeded');
  expect(run.outputs).toEqual({ out: 'fake:approval-research:Research / after the crash' });
  expect(fake.callsFor('approval-research')).toHaveLength(1);
  const events = (await api('GET', `/api/v1/executions/${executionId}/events`, token)).body.events;
  expect(events.filter((e: any) => e.type === 'approval.requested')).toHaveLength(1);
  expect(events.filter((e: any) => e.type === 'node.started' && e.nodeId === 'research')).toHaveLength(1);
  await Promise.all([procs.worker.kill('SIGTERM'), procs.api.kill('SIGTERM')]);
});
