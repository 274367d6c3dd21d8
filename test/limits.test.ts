// Bounded work wherever a user's text is evaluated (issue 9): canvases that used to time out the workflow
// sandbox and crash the worker now fail their node with a limit error, in a real worker process that stays
// the same process and keeps running another tenant's canvases. Real PostgreSQL, Redis, Temporal.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MAX_NODES } from '../core/graph';
import { EXPRESSION_LIMIT, OUTPUT_TOO_LARGE } from '../core/limits';
import { fanOutGraph } from './fixtures/graphs';
import { keyedObject, NESTED_EACH_TEMPLATE, singleTransformGraph, transformChainGraph } from './fixtures/limit-graphs';
import { killAllTessera, spawnTessera, stackEnv, writeWorkflowBundle, type TesseraProcess } from './support/processes';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

jest.setTimeout(240_000);

let stack: TestStack;
let bundleDir: string;
let worker: TesseraProcess;
let workerPid: number;
let builder: TestSession;
let bystander: TestSession;

beforeAll(async () => {
  // The API of the stack runs here; the worker is a process of its own, so "it stayed up" means something.
  stack = await startTestStack({ worker: false, cancelWaitMs: 3_000 });
  bundleDir = mkdtempSync(path.join(tmpdir(), 'tessera-bundle-'));
  const bundlePath = writeWorkflowBundle(stack.workflowBundle, path.join(bundleDir, 'workflow-bundle.js'));
  worker = spawnTessera('worker', stackEnv(stack, bundlePath));
  await worker.ready;
  workerPid = worker.child.pid!;
  [builder, bystander] = await Promise.all([registerTenant(stack), registerTenant(stack)]);
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

/** Saves `graph` for `session`, runs it with `inputs` and waits for the run to end. */
async function runToEnd(session: TestSession, graph: unknown, inputs: Record<string, unknown> = {}): Promise<any> {
  const workflowId = await createWorkflow(stack, session, graph);
  const executionId = await startRun(stack, session, workflowId, inputs);
  return waitForExecution(stack, session, executionId, undefined, 180_000);
}

function node(execution: any, nodeId: string): any {
  return execution.nodes.find((n: any) => n.nodeId === nodeId);
}

function expectWorkerAlive(): void {
  expect(worker.child.exitCode).toBeNull();
  expect(worker.child.signalCode).toBeNull();
  expect(worker.child.pid).toBe(workerPid);
  expect(worker.output()).not.toMatch(/Script execution timed out|async hook stack has become corrupted/);
}

describe('expressions and templates that exceed a limit fail their node, and the worker carries on', () => {
  const heavy: [string, { expression: string } | { template: string }, string][] = [
    ['tail recursion without end', { expression: '($f := function($n){ $f($n + 1) }; $f(0))' }, 'EXPRESSION_MAX_STEPS'],
    ['exponential recursion', { expression: '($f := function($n){ $n <= 0 ? 0 : $f($n-1) + $f($n-1) }; $f(40))' }, 'EXPRESSION_MAX_STEPS'],
    ['a 100 MB string', { expression: '$pad("x", 100000000)' }, 'NODE_OUTPUT_MAX_BYTES'],
    ['three nested #each over 300 keys', { template: NESTED_EACH_TEMPLATE }, 'EXPRESSION_TIMEOUT_MS'],
  ];

  test.each(heavy)('%s: the node fails with a limit error naming the limit', async (_label, data, limitName) => {
    const run = await runToEnd(builder, singleTransformGraph(data), { keys: keyedObject(300) });
    expect(run.status).toBe('failed');
    const work = node(run, 'work');
    expect(work.status).toBe('failed');
    expect([EXPRESSION_LIMIT, OUTPUT_TOO_LARGE]).toContain(work.error.code);
    expect(work.error.message).toContain(limitName);
    expect(run.error).toMatchObject({ code: work.error.code, nodeId: 'work' });
    expect(node(run, 'out').status).toBe('cancelled');
    expectWorkerAlive();
  });

  test('a transform whose output is 10 MB fails with OUTPUT_TOO_LARGE and the run ends failed', async () => {
    const run = await runToEnd(builder, singleTransformGraph({ expression: '$join($map([1..1000], function($i){ $pad("", 10000, "x") }))' }));
    expect(run.status).toBe('failed');
    expect(node(run, 'work').error.code).toBe(OUTPUT_TOO_LARGE);
    expect(node(run, 'work').error.message).toMatch(/MiB, above the 1 MiB limit \(NODE_OUTPUT_MAX_BYTES=1048576\)/);
    expectWorkerAlive();
  });

  test('mapping over 5,000 items is cheap outside the sandbox: it succeeds', async () => {
    const run = await runToEnd(builder, singleTransformGraph({ expression: '$count($map([1..5000], function($x){$x}))' }));
    expect(run.status).toBe('succeeded');
    expect(node(run, 'work').output).toBe(5000);
    expect(run.outputs).toEqual({ out: '5000' });
  });

  test('another tenant runs a canvas on the same worker while one of these runs', async () => {
    const heavyRun = runToEnd(builder, singleTransformGraph({ template: NESTED_EACH_TEMPLATE }), { keys: keyedObject(300) });
    const other = await runToEnd(bystander, fanOutGraph(0), { topic: 'otters' });
    expect(other.status).toBe('succeeded');
    expect(other.outputs).toEqual({ done: 'short: A on otters + B on otters' });
    expect((await heavyRun).status).toBe('failed');
    expectWorkerAlive();
  });
});

describe('the largest canvas the API accepts', () => {
  test(`a chain of ${MAX_NODES} cheap transforms runs to the end`, async () => {
    const started = Date.now();
    const run = await runToEnd(builder, transformChainGraph(MAX_NODES));
    expect(run.status).toBe('succeeded');
    expect(run.outputs).toEqual({ out: String(MAX_NODES - 2) });
    expect(run.nodes.filter((n: any) => n.status === 'succeeded')).toHaveLength(MAX_NODES);
    console.log(`${MAX_NODES}-node transform chain in a worker process: POST to succeeded in ${Date.now() - started} ms`);
    expectWorkerAlive();
  });
});

describe('run inputs above RUN_INPUTS_MAX_BYTES', () => {
  test('are refused with 413 INPUTS_TOO_LARGE and nothing is written', async () => {
    const workflowId = await createWorkflow(stack, builder, singleTransformGraph({ template: '{{inputs.keys.blob}}' }));
    const res = await stack.request('POST', `/api/v1/workflows/${workflowId}/executions`, {
      token: builder.token,
      body: { inputs: { keys: { blob: 'x'.repeat(300 * 1024) } } },
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'INPUTS_TOO_LARGE', details: { maxBytes: 256 * 1024 } });
    expect(res.body.error.message).toContain('RUN_INPUTS_MAX_BYTES');
    const list = await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}`, { token: builder.token });
    expect(list.body.items).toEqual([]);
  });
});

describe('a run no worker can advance', () => {
  test('is cancelled from the API: terminated after the bounded wait and recorded as such', async () => {
    const workflowId = await createWorkflow(stack, builder, fanOutGraph(120_000));
    const executionId = await startRun(stack, builder, workflowId, { topic: 'stuck' });
    await waitForExecution(stack, builder, executionId, (e) => e.nodes.some((n: any) => n.nodeId === 'a' && n.status === 'running'));
    // With the worker gone, nothing can record the cancel: the API must end the run itself.
    await worker.kill('SIGKILL');
    const res = await stack.request('POST', `/api/v1/executions/${executionId}/cancel`, { token: builder.token });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('cancelled');
    expect(res.body.error.code).toBe('RUN_TERMINATED');
    expect(res.body.error.message).toMatch(/terminated/);
    expect(res.body.nodes.filter((n: any) => ['pending', 'running', 'waiting'].includes(n.status))).toEqual([]);
    const described = await stack.temporal.workflow.getHandle(res.body.temporal.workflowId).describe();
    expect(described.status.name).toBe('TERMINATED');
  });
});
