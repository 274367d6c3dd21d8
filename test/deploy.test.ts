// Deployments against a real Docker engine: the exported wheel is built into an image (no network during the
// build) on a locally made Debian base image; a one-shot container prints the workflow's outputs, a service
// container answers POST /run on its published loopback port, and DELETE removes the container.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { ensureBaseImage, ensureDockerEngine } from './support/docker-engine';
import { startExport, waitForExport } from './support/exports';
import { createWorkflow, pollResource, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';
import { deploymentImageTag } from '../activities/export/docker-deploy';
import { deploymentTemporalId } from '../core/export-protocol';

jest.setTimeout(600_000);

let stack: TestStack;
let owner: TestSession;
let dataDir: string;
let docker: Docker;
let baseImage: string;
let exportId: string;
let workflowId: string;

const graph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true }, n: { type: 'number', default: 2 } } } },
    { id: 'draft', type: 'agent', position: { x: 0, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: 'Draft about {{inputs.topic}}' } },
    { id: 'gate', type: 'condition', position: { x: 0, y: 0 }, data: { expression: 'inputs.n > 1' } },
    { id: 'out', type: 'output', position: { x: 0, y: 0 }, data: { value: '{{nodes.draft.text}} x{{inputs.n}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'draft' },
    { id: 'e2', source: 'draft', target: 'gate' },
    { id: 'e3', source: 'gate', sourceHandle: 'true', target: 'out' },
  ],
};

beforeAll(async () => {
  docker = await ensureDockerEngine();
  baseImage = await ensureBaseImage(docker);
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-deploy-data-'));
  stack = await startTestStack({ dataDir, docker });
  owner = await registerTenant(stack);
  workflowId = await createWorkflow(stack, owner, graph, 'Deployed digest');
  exportId = await startExport(stack, owner, workflowId);
  const view = await waitForExport(stack, owner, exportId);
  if (view.status !== 'succeeded') throw new Error(`export failed: ${view.buildLog}`);
});

afterAll(async () => {
  await stack?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function waitForDeployment(id: string, done: (d: any) => boolean, timeoutMs = 300_000): Promise<any> {
  return pollResource(stack, owner, `/api/v1/deployments/${id}`, done, timeoutMs, 300);
}

async function containerExists(id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

it('runs a one-shot container that prints the platform outputs, and DELETE removes it', async () => {
  const inputs = { topic: 'tide tables', n: 3 };
  const executionId = await startRun(stack, owner, workflowId, inputs);
  const platform = (await waitForExecution(stack, owner, executionId)).outputs;

  const res = await stack.request('POST', `/api/v1/exports/${exportId}/deployments`, { token: owner.token, body: { mode: 'oneshot', inputs, baseImage } });
  expect(res.status).toBe(202);
  const done = await waitForDeployment(res.body.id, (d) => ['succeeded', 'failed'].includes(d.status));
  expect({ status: done.status, exitCode: done.exitCode, error: done.error }).toEqual({ status: 'succeeded', exitCode: 0, error: null });
  expect(done.outputs).toEqual(platform);
  expect(done.logs).toContain('tide tables');
  expect(await containerExists(done.containerId)).toBe(true);

  const other = await registerTenant(stack);
  expect((await stack.request('GET', `/api/v1/deployments/${done.id}`, { token: other.token })).status).toBe(404);
  expect((await stack.request('DELETE', `/api/v1/deployments/${done.id}`, { token: other.token })).status).toBe(404);
  expect(await containerExists(done.containerId)).toBe(true);

  const removed = await stack.request('DELETE', `/api/v1/deployments/${done.id}`, { token: owner.token });
  expect(removed.status).toBe(200);
  expect(await containerExists(done.containerId)).toBe(false);
});

it('runs a service container that answers POST /run, and DELETE stops and removes it', async () => {
  const res = await stack.request('POST', `/api/v1/exports/${exportId}/deployments`, { token: owner.token, body: { mode: 'service', inputs: {}, baseImage } });
  expect(res.status).toBe(202);
  const running = await waitForDeployment(res.body.id, (d) => ['running', 'failed'].includes(d.status));
  expect(running.status).toBe('running');
  expect(running.hostPort).toBeGreaterThan(0);

  // The container's server may still be starting: wait until it answers at all.
  const answer = await waitUntil(
    'the service answers POST /run',
    () => fetch(`${running.url}/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: { topic: 'owls', n: 5 } }) }).catch(() => null),
    { intervalMs: 300 },
  );
  expect(answer.status).toBe(200);
  expect(await answer.json()).toEqual({ outputs: { out: 'Draft about owls x5' } });
  const bad = await fetch(`${running.url}/run`, { method: 'POST', body: JSON.stringify({ inputs: {} }) });
  expect(bad.status).toBe(400);

  const removed = await stack.request('DELETE', `/api/v1/deployments/${running.id}`, { token: owner.token });
  expect(removed.status).toBe(200);
  expect(removed.body.status).toBe('stopped');
  expect(await containerExists(running.containerId)).toBe(false);
});

it('a service cancelled from Temporal (an operator) removes its container and is recorded stopped', async () => {
  const res = await stack.request('POST', `/api/v1/exports/${exportId}/deployments`, { token: owner.token, body: { mode: 'service', inputs: {}, baseImage } });
  expect(res.status).toBe(202);
  const running = await waitForDeployment(res.body.id, (d) => ['running', 'failed'].includes(d.status));
  expect(running.status).toBe('running');
  expect(await containerExists(running.containerId)).toBe(true);
  await stack.temporal.workflow.getHandle(deploymentTemporalId(owner.tenantId, running.id)).cancel();
  const stopped = await waitForDeployment(running.id, (d) => ['stopped', 'failed'].includes(d.status), 60_000);
  expect(stopped).toMatchObject({ status: 'stopped', containerId: null, error: null });
  expect(stopped.finishedAt).not.toBeNull();
  expect(await containerExists(running.containerId)).toBe(false);
});

it('a deployment whose workflow was terminated (no cleanup ran) reads as failed and names its leftover container', async () => {
  const res = await stack.request('POST', `/api/v1/exports/${exportId}/deployments`, { token: owner.token, body: { mode: 'service', inputs: {}, baseImage } });
  const running = await waitForDeployment(res.body.id, (d) => ['running', 'failed'].includes(d.status));
  expect(running.status).toBe('running');
  try {
    await stack.temporal.workflow.getHandle(deploymentTemporalId(owner.tenantId, running.id)).terminate('an operator pulled the plug');
    const read = await stack.request('GET', `/api/v1/deployments/${running.id}`, { token: owner.token });
    expect(read.body.status).toBe('failed');
    expect(read.body.error.code).toBe('DEPLOYMENT_ABANDONED');
    expect(read.body.error.message).toContain(`its container ${running.containerId.slice(0, 12)} may still exist`);
    expect(read.body.finishedAt).not.toBeNull();
    expect(await containerExists(running.containerId)).toBe(true);
  } finally {
    // The service's container and, without egress, its gate and internal network (all labelled), then its image.
    const filters = JSON.stringify({ label: [`io.tessera.deployment=${running.id}`] });
    for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
    await docker.getImage(deploymentImageTag(running.id)).remove({ force: true }).catch(() => undefined);
  }
});
