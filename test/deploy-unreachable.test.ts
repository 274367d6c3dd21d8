// A deployment asked for while no Docker engine answers at the worker's DOCKER_HOST: the deployment ends
// `failed` with a message naming that address, and the worker process that tried it is still the same process,
// still running canvases. (It once died of an unhandled tar stream error and took `npm start` down with it.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts } from './global-setup';
import { startExport, waitForExport } from './support/exports';
import { killAllTessera, spawnTessera, stackEnv, writeWorkflowBundle, type TesseraProcess } from './support/processes';
import { createWorkflow, pollResource, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

jest.setTimeout(300_000);

let stack: TestStack;
let owner: TestSession;
let dataDir: string;
let bundleDir: string;
let worker: TesseraProcess;
let dockerHost: string;

const graph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
    { id: 'draft', type: 'agent', position: { x: 0, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: 'About {{inputs.topic}}' } },
    { id: 'out', type: 'output', position: { x: 0, y: 0 }, data: { value: '{{nodes.draft.text}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'draft' },
    { id: 'e2', source: 'draft', target: 'out' },
  ],
};

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-deploy-unreachable-'));
  bundleDir = mkdtempSync(path.join(tmpdir(), 'tessera-bundle-'));
  stack = await startTestStack({ worker: false, dataDir });
  owner = await registerTenant(stack);
  const [port] = (await freePorts(1)) as [number];
  // A loopback port that was free a moment ago: nothing listens there, so every connection is refused.
  dockerHost = `tcp://127.0.0.1:${port}`;
  worker = spawnTessera('worker', {
    ...stackEnv(stack, writeWorkflowBundle(stack.workflowBundle, path.join(bundleDir, 'workflow-bundle.js'))),
    DATA_DIR: dataDir,
    DOCKER_HOST: dockerHost,
  });
  await worker.ready;
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  for (const dir of [dataDir, bundleDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

function stillRunning(p: TesseraProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

it('fails the deployment naming the engine address, and the same worker process goes on running canvases', async () => {
  const pid = worker.child.pid!;
  const workflowId = await createWorkflow(stack, owner, graph, 'Deployed without an engine');
  const exportId = await startExport(stack, owner, workflowId);
  const exported = await waitForExport(stack, owner, exportId);
  expect({ status: exported.status, error: exported.error }).toEqual({ status: 'succeeded', error: null });

  const res = await stack.request('POST', `/api/v1/exports/${exportId}/deployments`, { token: owner.token, body: { mode: 'oneshot', inputs: { topic: 'tides' } } });
  expect(res.status).toBe(202);
  const done = await pollResource(stack, owner, `/api/v1/deployments/${res.body.id}`, (d) => ['succeeded', 'failed', 'stopped'].includes(d.status), 120_000, 200);
  expect(done.status).toBe('failed');
  expect(done.error.code).toBe('DEPLOYMENT_FAILED');
  expect(done.error.message).toContain(`the Docker engine at ${dockerHost} is not reachable`);
  expect(done.finishedAt).not.toBeNull();

  expect(stillRunning(worker)).toBe(true);
  expect(worker.child.pid).toBe(pid);
  expect(worker.output()).not.toMatch(/Emitted 'error' event|uncaught exception/i);

  // The run after it is served by that very process: its workflow tasks name the worker's pid as identity.
  const executionId = await startRun(stack, owner, workflowId, { topic: 'owls' });
  const run = await waitForExecution(stack, owner, executionId);
  expect({ status: run.status, outputs: run.outputs }).toEqual({ status: 'succeeded', outputs: { out: 'About owls' } });
  const history = await stack.temporal.workflow.getHandle(run.temporal.workflowId).fetchHistory();
  const identities = new Set((history.events ?? []).map((e) => e.workflowTaskCompletedEventAttributes?.identity).filter(Boolean));
  expect([...identities]).toEqual([expect.stringMatching(new RegExp(`^${pid}@`))]);
  expect(stillRunning(worker)).toBe(true);
});
