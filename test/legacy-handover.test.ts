// A run started by the worker deployed before issue 10 (the 51439c9 interpreter, frozen in workflows/legacy)
// and waiting on an approval finishes on today's worker once it is decided: the old worker process is
// stopped, a worker with today's bundle takes the task queue, replays the history without the run-machine
// marker through the legacy interpreter, and carries the run to its end.
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WORKFLOW_BUNDLE_IGNORED_MODULES } from '../worker/create-worker';
import { killAllTessera, spawnTessera, stackEnv, writeWorkflowBundle } from './support/processes';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

jest.setTimeout(240_000);

let stack: TestStack;
let bundleDir: string;
let owner: TestSession;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  bundleDir = mkdtempSync(path.join(tmpdir(), 'tessera-handover-'));
  owner = await registerTenant(stack);
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

const graph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', default: 'tea' } } } },
    { id: 'draft', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: 'Draft on {{inputs.topic}}' } },
    { id: 'review', type: 'approval', position: { x: 400, y: 0 }, data: { title: 'Publish {{inputs.topic}}?' } },
    { id: 'out', type: 'output', position: { x: 600, y: 0 }, data: { value: '{{nodes.draft.text}} / {{nodes.review.comment}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'draft' },
    { id: 'e2', source: 'draft', target: 'review' },
    { id: 'e3', source: 'review', sourceHandle: 'approved', target: 'out' },
  ],
};

it('a run waiting on an approval under the 51439c9 worker finishes on the new worker', async () => {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('./support/legacy-workflows'), ignoreModules: WORKFLOW_BUNDLE_IGNORED_MODULES });
  const legacyBundle = writeWorkflowBundle({ code }, path.join(bundleDir, 'legacy.js'));
  const currentBundle = writeWorkflowBundle(stack.workflowBundle, path.join(bundleDir, 'current.js'));

  const old = spawnTessera('worker', stackEnv(stack, legacyBundle));
  await old.ready;
  const executionId = await startRun(stack, owner, await createWorkflow(stack, owner, graph), { topic: 'otters' });
  await waitForExecution(stack, owner, executionId, (e) => e.status === 'waiting');
  await old.kill('SIGTERM');

  const current = spawnTessera('worker', stackEnv(stack, currentBundle));
  await current.ready;
  const decided = await stack.request('POST', `/api/v1/executions/${executionId}/approvals/review`, { token: owner.token, body: { decision: 'approve', comment: 'after the deploy' } });
  expect(decided.status).toBe(200);
  const run = await waitForExecution(stack, owner, executionId);
  expect(run.status).toBe('succeeded');
  expect(run.outputs).toEqual({ out: 'Draft on otters / after the deploy' });
  const events = (await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token })).body.events;
  expect(events.filter((e: any) => e.type === 'node.started' && e.nodeId === 'draft')).toHaveLength(1);
  expect(events.map((e: any) => e.type)).toContain('execution.succeeded');
  await current.kill('SIGTERM');
});
