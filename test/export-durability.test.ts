// An export survives the death of its worker: the worker process is SIGKILLed while the wheel is being built,
// a new worker process picks the build up again (heartbeat timeout, retry) and the export succeeds.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { downloadWheel, installWheel, runExported, startExport, waitForExport } from './support/exports';
import { killAllTessera, spawnTessera, stackEnv, writeWorkflowBundle, type TesseraProcess } from './support/processes';
import { createWorkflow, registerTenant, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';

jest.setTimeout(240_000);

const run = promisify(execFile);

let stack: TestStack;
let owner: TestSession;
let dataDir: string;
let bundleDir: string;
let bundlePath: string;

function spawnWorker(): TesseraProcess {
  return spawnTessera('worker', {
    ...stackEnv(stack, bundlePath),
    DATA_DIR: dataDir,
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-export-durable-'));
  stack = await startTestStack({ worker: false, dataDir });
  owner = await registerTenant(stack);
  bundleDir = mkdtempSync(path.join(tmpdir(), 'tessera-bundle-'));
  bundlePath = writeWorkflowBundle(stack.workflowBundle, path.join(bundleDir, 'workflow-bundle.js'));
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  for (const dir of [dataDir, bundleDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

async function buildChildOf(pid: number): Promise<void> {
  await waitUntil(
    `worker ${pid} running a wheel build`,
    async () => (await run('ps', ['--ppid', String(pid), '-o', 'args=']).catch(() => ({ stdout: '' }))).stdout.includes('-m build --wheel'),
    { intervalMs: 50 },
  );
}

it('finishes an export on a new worker after the first is SIGKILLed mid-build', async () => {
  const graph = {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { who: { type: 'string', required: true } } } },
      { id: 'out', type: 'output', position: { x: 0, y: 0 }, data: { value: 'Hello {{inputs.who}}' } },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'out' }],
  };
  const workflowId = await createWorkflow(stack, owner, graph, 'Durable export');
  const first = spawnWorker();
  await first.ready;
  const exportId = await startExport(stack, owner, workflowId);
  await waitForExport(stack, owner, exportId, (e) => e.status === 'building', 60_000);
  // Kill only once the worker's build child (python3 -m build) is really running.
  await buildChildOf(first.child.pid!);
  await first.kill('SIGKILL');

  const midway = await stack.request('GET', `/api/v1/exports/${exportId}`, { token: owner.token });
  expect(midway.body.status).toBe('building');

  const second = spawnWorker();
  await second.ready;
  const done = await waitForExport(stack, owner, exportId, undefined, 120_000);
  expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: null });
  // The build that finished is the retry on the second worker.
  expect(done.buildLog).toMatch(/== build attempt [2-9] ==/);

  const wheel = await downloadWheel(stack, owner, exportId, dataDir);
  const bin = await installWheel(wheel.file);
  const result = await runExported(bin, done.packageName, ['--input', 'who=world']);
  expect(JSON.parse(result.stdout)).toEqual({ out: 'Hello world' });
  await second.kill('SIGTERM');
});
