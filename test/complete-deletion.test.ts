// Complete deletion (issue 14 item 7), read back from where things actually live: Temporal (open workflows by
// the TenantId search attribute, schedules) and the Docker engine (containers by Tessera's labels).
// Deleting a workflow cancels its running run (kept in the history, cancelled), stops its deployment, deletes its
// schedule and webhook; deleting a tenant leaves no open workflow (runs, child runs, map coordinators, exports,
// deployments), no schedule and no container of it. Another tenant gets 404 on every id of it.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import type Docker from 'dockerode';
import { OUTLASTING_TURN_MS } from './fixtures/graphs';
import { ensureBaseImage, ensureDockerEngine } from './support/docker-engine';
import { startExport, waitForExport } from './support/exports';
import { createWorkflow, pollResource, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';
import { temporalWorkflowId } from '../core/events';
import { WORKFLOW_DELETION_EFFECTS } from '../core/workflow-deletion';
import { temporalScheduleId } from '../server/temporal/schedule-client';

jest.setTimeout(900_000);

let stack: TestStack;
let docker: Docker;
let baseImage: string;
let dataDir: string;
let stranger: TestSession;

/** trigger → an echo turn that outlasts the test → output: a run that is still running whenever it is looked at. */
const longGraph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { n: { type: 'number', default: 0 } } } },
    { id: 'slow', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: 'item {{inputs.n}}', delayMs: OUTLASTING_TURN_MS } },
    { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.slow.text}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'slow' },
    { id: 'e2', source: 'slow', target: 'out' },
  ],
};

/** A run with children of every kind: a map over two items of `childId` (a coordinator and two child runs) and a subflow. */
function parentGraph(childId: string) {
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
      { id: 'm', type: 'map', position: { x: 200, y: -100 }, data: { items: '[0..1]', workflowId: childId, itemInput: '{"n": item}', concurrency: 2 } },
      { id: 'sub', type: 'subflow', position: { x: 200, y: 100 }, data: { workflowId: childId, inputs: { n: '7' } } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.m.results.length}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'm' },
      { id: 'e2', source: 'start', target: 'sub' },
      { id: 'e3', source: 'm', target: 'out' },
      { id: 'e4', source: 'sub', target: 'out' },
    ],
  };
}

beforeAll(async () => {
  docker = await ensureDockerEngine();
  baseImage = await ensureBaseImage(docker);
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-deletion-data-'));
  stack = await startTestStack({ dataDir, docker });
  stranger = await registerTenant(stack);
});

afterAll(async () => {
  await stack?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Everything a workflow owns that deletion must stop: a running run, a running service deployment, a schedule, a webhook. */
async function furnish(owner: TestSession, workflowId: string) {
  const exportId = await startExport(stack, owner, workflowId);
  const exported = await waitForExport(stack, owner, exportId);
  if (exported.status !== 'succeeded') throw new Error(`export failed: ${exported.buildLog}`);
  const deployed = await stack.request('POST', `/api/v1/exports/${exportId}/deployments`, { token: owner.token, body: { mode: 'service', inputs: {}, baseImage } });
  expect(deployed.status).toBe(202);
  const deployment = await pollResource(stack, owner, `/api/v1/deployments/${deployed.body.id}`, (d) => ['running', 'failed'].includes(d.status), 300_000, 300);
  expect(deployment.status).toBe('running');
  const schedule = await stack.request('POST', `/api/v1/workflows/${workflowId}/schedules`, { token: owner.token, body: { intervalSeconds: 3600 } });
  expect(schedule.status).toBe(201);
  const webhook = await stack.request('POST', `/api/v1/workflows/${workflowId}/webhooks`, { token: owner.token });
  expect(webhook.status).toBe(201);
  return { exportId, deployment, scheduleId: schedule.body.id as string, webhook: webhook.body as { id: string; secret: string } };
}

async function containersOf(label: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [label] } });
}

async function openWorkflowsOf(tenantId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of stack.temporal.workflow.list({ query: `TenantId = "${tenantId}" AND ExecutionStatus = "Running"` })) ids.push(w.workflowId);
  return ids;
}

async function schedulesOf(tenantId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of stack.temporal.schedule.list()) if (s.scheduleId.startsWith(`tenant/${tenantId}/`)) ids.push(s.scheduleId);
  return ids;
}

async function deliver(hook: { id: string; secret: string }): Promise<number> {
  const body = '{}';
  const signature = `sha256=${createHmac('sha256', hook.secret).update(body).digest('hex')}`;
  const res = await fetch(`${stack.baseUrl}/hooks/${hook.id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Tessera-Signature': signature }, body });
  return res.status;
}

test('deleting a workflow cancels its running run (kept, cancelled), stops its deployment, deletes its schedule and webhook; another tenant gets 404', async () => {
  const owner = await registerTenant(stack);
  const workflowId = await createWorkflow(stack, owner, longGraph, 'Doomed workflow');
  const { exportId, deployment, scheduleId, webhook } = await furnish(owner, workflowId);
  const executionId = await startRun(stack, owner, workflowId, { n: 1 });
  await waitForExecution(stack, owner, executionId, (e) => e.status === 'running');
  expect((await containersOf(`io.tessera.deployment=${deployment.id}`)).length).toBeGreaterThan(0);

  // Another tenant reaches none of it, and its attempts change nothing.
  for (const [method, url] of [
    ['DELETE', `/api/v1/workflows/${workflowId}`],
    ['GET', `/api/v1/executions/${executionId}`],
    ['DELETE', `/api/v1/deployments/${deployment.id}`],
    ['DELETE', `/api/v1/schedules/${scheduleId}`],
    ['DELETE', `/api/v1/webhooks/${webhook.id}`],
  ] as const) {
    expect({ url, status: (await stack.request(method, url, { token: stranger.token })).status }).toEqual({ url, status: 404 });
  }
  expect((await stack.request('GET', `/api/v1/executions/${executionId}`, { token: owner.token })).body.status).toBe('running');

  const deleted = await stack.request('DELETE', `/api/v1/workflows/${workflowId}`, { token: owner.token });
  expect(deleted.status).toBe(204);

  // The run: closed in Temporal, its row kept and cancelled, still listed with the workflow's runs.
  const described = await stack.temporal.workflow.getHandle(temporalWorkflowId(owner.tenantId, executionId)).describe();
  expect(described.status.name).toBe('CANCELLED');
  const row = await stack.request('GET', `/api/v1/executions/${executionId}`, { token: owner.token });
  expect({ status: row.status, run: row.body.status }).toEqual({ status: 200, run: 'cancelled' });
  const listed = await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}`, { token: owner.token });
  expect(listed.body.items.map((e: { id: string }) => e.id)).toEqual([executionId]);
  // The deployment: stopped, its container gone from the engine; the export stays readable.
  const stopped = await stack.request('GET', `/api/v1/deployments/${deployment.id}`, { token: owner.token });
  expect(stopped.body).toMatchObject({ status: 'stopped', containerId: null });
  expect(await containersOf(`io.tessera.deployment=${deployment.id}`)).toEqual([]);
  expect((await stack.request('GET', `/api/v1/exports/${exportId}`, { token: owner.token })).status).toBe(200);
  // The schedule is gone from Temporal and the API, the webhook answers 404, the workflow too.
  await expect(stack.temporal.schedule.getHandle(temporalScheduleId(owner.tenantId, scheduleId)).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  expect((await stack.request('DELETE', `/api/v1/schedules/${scheduleId}`, { token: owner.token })).status).toBe(404);
  expect(await deliver(webhook)).toBe(404);
  expect((await stack.request('GET', `/api/v1/workflows/${workflowId}`, { token: owner.token })).status).toBe(404);
  expect((await stack.request('POST', `/api/v1/workflows/${workflowId}/executions`, { token: owner.token, body: { inputs: {} } })).status).toBe(404);
  expect((await stack.request('GET', '/api/v1/workflows', { token: owner.token })).body.items).toEqual([]);
  // Nothing of the workflow is left open in Temporal.
  expect(await openWorkflowsOf(owner.tenantId)).toEqual([]);

  // What the API documents for the route is what just happened (the web dialog shows the same sentence).
  const openapi = await stack.request('GET', '/api/openapi.json');
  expect(openapi.body.paths['/api/v1/workflows/{id}'].delete.description).toContain(WORKFLOW_DELETION_EFFECTS);
});

test('deleting a tenant leaves no open workflow (runs, child runs, map coordinators, deployments), no schedule and no container of it', async () => {
  const doomed = await registerTenant(stack);
  const childId = await createWorkflow(stack, doomed, longGraph, 'Item');
  const parentId = await createWorkflow(stack, doomed, parentGraph(childId), 'Parent');
  const { deployment, scheduleId, webhook } = await furnish(doomed, childId);
  const executionId = await startRun(stack, doomed, parentId);
  // The parent, the map's coordinator, its two item runs, the subflow's run, the deployment: all open.
  const open = await waitUntil('the parent, its coordinator and three child runs are open', async () => {
    const ids = await openWorkflowsOf(doomed.tenantId);
    return ids.filter((id) => id.includes('/execution/')).length >= 5 ? ids : null;
  }, { timeoutMs: 60_000, intervalMs: 300 });
  expect(open).toContain(temporalWorkflowId(doomed.tenantId, executionId));
  expect((await containersOf(`io.tessera.tenant=${doomed.tenantId}`)).length).toBeGreaterThan(0);
  expect(await schedulesOf(doomed.tenantId)).toEqual([temporalScheduleId(doomed.tenantId, scheduleId)]);

  // Another tenant's id routes answer 404 for all of it, and its own tenant deletion needs its own slug.
  for (const url of [`/api/v1/executions/${executionId}`, `/api/v1/deployments/${deployment.id}`, `/api/v1/workflows/${parentId}`]) {
    expect({ url, status: (await stack.request('GET', url, { token: stranger.token })).status }).toEqual({ url, status: 404 });
  }
  const me = await stack.request('GET', '/api/v1/auth/me', { token: doomed.token });
  const wrongSlug = await stack.request('DELETE', '/api/v1/tenant', { token: stranger.token, body: { confirmSlug: me.body.tenant.slug } });
  expect(wrongSlug.status).toBe(400);

  const deleted = await stack.request('DELETE', '/api/v1/tenant', { token: doomed.token, body: { confirmSlug: me.body.tenant.slug } });
  expect(deleted.status).toBe(204);

  expect(await containersOf(`io.tessera.tenant=${doomed.tenantId}`)).toEqual([]);
  expect(await schedulesOf(doomed.tenantId)).toEqual([]);
  // Temporal's visibility store may trail the terminations by a moment; nothing may stay open.
  await waitUntil('no workflow of the deleted tenant is open', async () => ((await openWorkflowsOf(doomed.tenantId)).length === 0 ? true : null), { timeoutMs: 10_000, intervalMs: 200 });
  for (const id of open) {
    expect({ id, open: (await stack.temporal.workflow.getHandle(id).describe()).status.name === 'RUNNING' }).toEqual({ id, open: false });
  }
  expect(await deliver(webhook)).toBe(404);
  // The stranger's tenant is untouched.
  expect((await stack.request('GET', '/api/v1/auth/me', { token: stranger.token })).status).toBe(200);
});
