// Code export end to end: a saved workflow becomes a wheel through the exportRun workflow, the wheel downloads
// with its checksum, installs offline into a fresh venv and gives exactly the platform's outputs; hostile
// names and prompts cannot break the build; unsupported expressions are refused; a failing build is retried
// and fails the export with its log; another tenant sees none of it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { downloadWheel, inputArgs, installWheel, runExported, startExport, waitForExport } from './support/exports';
import { waitUntil } from './support/wait-until';
import { openSocket } from './support/ws-client';
import { exportTemporalId } from '../core/export-protocol';

jest.setTimeout(300_000);

const run = promisify(execFile);

let stack: TestStack;
let owner: TestSession;
let dataDir: string;
let workDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-export-data-'));
  workDir = mkdtempSync(path.join(tmpdir(), 'tessera-export-work-'));
  stack = await startTestStack({ dataDir });
  owner = await registerTenant(stack);
});

afterAll(async () => {
  await stack?.close();
  for (const dir of [dataDir, workDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const node = (id: string, type: string, data: Record<string, unknown>) => ({ id, type, position: { x: 0, y: 0 }, data });
const edge = (source: string, target: string, sourceHandle?: string) => ({ id: `${source}-${target}-${sourceHandle ?? ''}`, source, target, ...(sourceHandle ? { sourceHandle } : {}) });

/** Parallel agent branches joined by a transform expression, a template transform, and a condition both ways. */
const branchingGraph = {
  nodes: [
    node('start', 'trigger', { inputs: { topic: { type: 'string', required: true }, n: { type: 'number', default: 3 }, loud: { type: 'boolean', default: false } } }),
    node('left', 'agent', { provider: 'echo', model: 'echo-1', system: 'You are terse.', prompt: 'Left on {{inputs.topic}} ({{inputs.n}})' }),
    node('right', 'agent', { provider: 'echo', model: 'echo-2', prompt: '{{#if inputs.loud}}RIGHT{{else}}right{{/if}}: {{json inputs}}', delayMs: 200 }),
    node('join', 'transform', {
      expression: '{"both": nodes.left.text & " | " & nodes.right.text, "tokens": nodes.left.usage.totalTokens + nodes.right.usage.totalTokens, "half": inputs.n / 2, "upper": $uppercase(inputs.topic)}',
    }),
    node('summary', 'transform', { template: '{{nodes.join.upper}} x{{nodes.join.half}} {{#each nodes.join}}[{{@key}}]{{/each}}' }),
    node('check', 'condition', { expression: '$length(nodes.left.text) > inputs.n * 5 and $contains(nodes.right.text, "right")' }),
    node('yes', 'output', { value: 'YES {{nodes.summary}} {{json nodes.join}} {{nodes.left}}' }),
    node('no', 'output', { value: 'NO {{nodes.check.result}} {{nodes.right.text}}' }),
    node('always', 'output', { value: '{{nodes.join.tokens}} tokens; model {{nodes.right.model}}' }),
  ],
  edges: [
    edge('start', 'left'),
    edge('start', 'right'),
    edge('left', 'join'),
    edge('right', 'join'),
    edge('join', 'summary'),
    edge('summary', 'check'),
    edge('check', 'yes', 'true'),
    edge('check', 'no', 'false'),
    edge('join', 'always'),
  ],
};

const approvalGraph = {
  nodes: [
    node('start', 'trigger', { inputs: { item: { type: 'string', required: true } } }),
    node('draft', 'agent', { provider: 'echo', model: 'echo-1', prompt: 'Draft for {{inputs.item}}' }),
    node('review', 'approval', { title: 'Publish {{inputs.item}}?' }),
    node('published', 'output', { value: 'published: {{nodes.draft.text}} ({{nodes.review.decision}})' }),
    node('dropped', 'output', { value: 'dropped {{inputs.item}} ({{nodes.review.decision}})' }),
  ],
  edges: [edge('start', 'draft'), edge('draft', 'review'), edge('review', 'published', 'approved'), edge('review', 'dropped', 'rejected')],
};

async function exportAndInstall(graph: unknown, name: string): Promise<{ exportId: string; bin: string; script: string; view: any }> {
  const workflowId = await createWorkflow(stack, owner, graph, name);
  const exportId = await startExport(stack, owner, workflowId);
  const view = await waitForExport(stack, owner, exportId);
  if (view.status !== 'succeeded') throw new Error(`export failed: ${JSON.stringify(view.error)}\n${view.buildLog}`);
  const wheel = await downloadWheel(stack, owner, exportId, workDir);
  const bin = await installWheel(wheel.file);
  return { exportId, bin, script: view.packageName, view };
}

async function platformOutputs(workflowId: string, inputs: Record<string, unknown>, decision?: 'approve' | 'reject'): Promise<Record<string, unknown>> {
  const executionId = await startRun(stack, owner, workflowId, inputs);
  if (decision) {
    await waitForExecution(stack, owner, executionId, (e) => e.status === 'waiting');
    const res = await stack.request('POST', `/api/v1/executions/${executionId}/approvals/review`, { token: owner.token, body: { decision } });
    expect(res.status).toBe(200);
  }
  const done = await waitForExecution(stack, owner, executionId);
  expect(done.status).toBe('succeeded');
  return done.outputs;
}

async function exportedOutputs(bin: string, script: string, args: string[]): Promise<Record<string, unknown>> {
  const result = await runExported(bin, script, args);
  if (result.code !== 0) throw new Error(`exported run failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

describe('exported package parity', () => {
  it('gives exactly the platform outputs for parallel branches, a transform and a condition taken both ways', async () => {
    const workflowId = await createWorkflow(stack, owner, branchingGraph, 'Branching parity');
    const exportId = await startExport(stack, owner, workflowId);
    const view = await waitForExport(stack, owner, exportId);
    expect(view.status).toBe('succeeded');
    const wheel = await downloadWheel(stack, owner, exportId, workDir);
    const bin = await installWheel(wheel.file);

    for (const inputs of [{ topic: 'lighthouses of the north sea', n: 3 }, { topic: 'owls', n: 40, loud: true }]) {
      const platform = await platformOutputs(workflowId, inputs);
      const exported = await exportedOutputs(bin, view.packageName, inputArgs(inputs));
      expect(exported).toEqual(platform);
    }
    // The two runs took different branches: the parity covers both sides of the condition.
    const first = await exportedOutputs(bin, view.packageName, inputArgs({ topic: 'lighthouses of the north sea', n: 3 }));
    const second = await exportedOutputs(bin, view.packageName, inputArgs({ topic: 'owls', n: 40, loud: true }));
    expect(Object.keys(first).sort()).toEqual(['always', 'yes']);
    expect(Object.keys(second).sort()).toEqual(['always', 'no']);

    // The same through python -m and an inputs file.
    const viaModule = await runExported(bin, 'python', ['-m', view.packageName.replace(/-/g, '_'), '--input', 'topic=owls', '--input', 'n=40', '--input', 'loud=true']);
    expect(JSON.parse(viaModule.stdout)).toEqual(second);
  });

  it('gives exactly the platform outputs through an approval decided with --approve and --reject', async () => {
    const { bin, script } = await exportAndInstall(approvalGraph, 'Approval parity');
    const workflowId = (await stack.request('GET', `/api/v1/workflows`, { token: owner.token })).body.items.find((w: any) => w.name === 'Approval parity').id;
    const approved = await platformOutputs(workflowId, { item: 'the spring issue' }, 'approve');
    expect(await exportedOutputs(bin, script, ['--input', 'item=the spring issue', '--approve'])).toEqual(approved);
    const rejected = await platformOutputs(workflowId, { item: 'the spring issue' }, 'reject');
    expect(await exportedOutputs(bin, script, ['--input', 'item=the spring issue', '--reject'])).toEqual(rejected);

    const undecided = await runExported(bin, script, ['--input', 'item=x']);
    expect(undecided.code).toBe(1);
    expect(JSON.parse(undecided.stderr).error.code).toBe('APPROVAL_UNDECIDED');
  });
});

/** Waits until the number of processes whose command line names `marker` satisfies `ok`. */
async function waitForProcesses(marker: string, ok: (count: number) => boolean): Promise<void> {
  await waitUntil(`the number of processes naming ${marker} as expected`, async () => {
    const { stdout } = await run('ps', ['-eo', 'args']);
    return ok(stdout.split('\n').filter((line) => line.includes(marker) && !line.startsWith('ps ')).length);
  });
}

describe('export API', () => {
  it('records the wheel with its checksum, size and build log and streams it with filename and checksum headers', async () => {
    const workflowId = await createWorkflow(stack, owner, approvalGraph, 'Download me');
    const exportId = await startExport(stack, owner, workflowId);
    const ws = await openSocket(stack.wsUrl, owner.token);
    ws.send({ type: 'subscribe', executionId: exportId, afterSeq: 0 });
    const view = await waitForExport(stack, owner, exportId);
    expect(view).toMatchObject({ id: exportId, status: 'succeeded', packageName: 'tessera-download-me', version: '1', workflowVersion: 1 });
    expect(view.wheelFile).toBe('tessera_download_me-1-py3-none-any.whl');
    expect(view.buildLog).toContain('Successfully built tessera_download_me-1-py3-none-any.whl');
    expect(view.buildLog).toContain('--help');
    // The wheel is in the artifact store: the export's work directory is gone.
    expect(existsSync(path.join(dataDir, 'exports', 'work', owner.tenantId, exportId))).toBe(false);
    expect(existsSync(path.join(dataDir, 'exports', 'work', owner.tenantId))).toBe(true);

    const wheel = await downloadWheel(stack, owner, exportId, workDir);
    const sha256 = createHash('sha256').update(wheel.bytes).digest('hex');
    expect(wheel.headers.get('x-checksum-sha256')).toBe(sha256);
    expect(view.sha256).toBe(sha256);
    expect(view.sizeBytes).toBe(wheel.bytes.length);
    expect(wheel.headers.get('content-disposition')).toBe(`attachment; filename="${view.wheelFile}"`);

    const events = await stack.request('GET', `/api/v1/exports/${exportId}/events`, { token: owner.token });
    const types = events.body.items.map((e: any) => e.type);
    expect(types).toEqual(['export.started', 'export.rendered', 'export.built', 'export.checked', 'export.stored', 'export.succeeded']);
    const live = await ws.waitFor((m: any) => m.type === 'event' && m.event.type === 'export.succeeded');
    expect(live.event.executionId).toBe(exportId);
    await ws.close();

    // The workflow's exports list it, newest first, without the build log.
    const second = await startExport(stack, owner, workflowId);
    const listed = await stack.request('GET', `/api/v1/workflows/${workflowId}/exports`, { token: owner.token });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((e: any) => e.id)).toEqual([second, exportId]);
    expect(listed.body.items[1]).toEqual(Object.fromEntries(Object.entries(view).filter(([k]) => k !== 'buildLog')));
    expect((await stack.request('GET', `/api/v1/workflows/${workflowId}/exports?limit=1`, { token: owner.token })).body.items).toHaveLength(1);
    expect((await stack.request('GET', `/api/v1/workflows/${workflowId}/exports?limit=0`, { token: owner.token })).status).toBe(400);
    await waitForExport(stack, owner, second);
  });

  it('cancels an export mid-build: 202, the build is stopped and the export recorded cancelled; a finished one is 409', async () => {
    const workflowId = await createWorkflow(stack, owner, approvalGraph, 'Cancel me');
    const exportId = await startExport(stack, owner, workflowId);
    const building = await waitForExport(stack, owner, exportId, (e) => e.status === 'building' || ['succeeded', 'failed', 'cancelled'].includes(e.status));
    expect(building.status).toBe('building');
    // The build tool runs with the export's work dir on its command line: it is there, and gone after the cancel.
    await waitForProcesses(exportId, (n) => n > 0);
    const res = await stack.request('POST', `/api/v1/exports/${exportId}/cancel`, { token: owner.token });
    expect(res.status).toBe(202);
    await waitForProcesses(exportId, (n) => n === 0);
    const done = await waitForExport(stack, owner, exportId);
    expect(done).toMatchObject({ status: 'cancelled', error: { code: 'EXPORT_CANCELLED' }, sha256: null });
    expect(done.finishedAt).not.toBeNull();
    const events = await stack.request('GET', `/api/v1/exports/${exportId}/events`, { token: owner.token });
    const types = events.body.items.map((e: any) => e.type);
    expect(types.slice(0, 2)).toEqual(['export.started', 'export.rendered']);
    expect(types.at(-1)).toBe('export.failed');
    expect(types).not.toContain('export.stored');
    expect((await stack.request('GET', `/api/v1/exports/${exportId}/download`, { token: owner.token })).status).toBe(409);
    const again = await stack.request('POST', `/api/v1/exports/${exportId}/cancel`, { token: owner.token });
    expect(again.status).toBe(409);
    expect(again.body.error.details).toEqual({ status: 'cancelled' });
  });

  it('an export whose workflow was terminated in Temporal is repaired on read, not left building', async () => {
    const workflowId = await createWorkflow(stack, owner, approvalGraph, 'Terminate me');
    const exportId = await startExport(stack, owner, workflowId);
    const building = await waitForExport(stack, owner, exportId, (e) => e.status === 'building' || ['succeeded', 'failed', 'cancelled'].includes(e.status));
    expect(building.status).toBe('building');
    await stack.temporal.workflow.getHandle(exportTemporalId(owner.tenantId, exportId)).terminate('an operator stopped it');
    const read = await stack.request('GET', `/api/v1/exports/${exportId}`, { token: owner.token });
    expect(read.body).toMatchObject({ status: 'cancelled', error: { code: 'EXPORT_TERMINATED', message: 'the export workflow was terminated in Temporal' } });
    expect(read.body.finishedAt).not.toBeNull();
    const events = await stack.request('GET', `/api/v1/exports/${exportId}/events`, { token: owner.token });
    expect(events.body.items.at(-1)).toMatchObject({ type: 'export.failed', data: { error: { code: 'EXPORT_TERMINATED' } } });
    expect((await stack.request('POST', `/api/v1/exports/${exportId}/cancel`, { token: owner.token })).status).toBe(409);
  });

  it('refuses a canvas with expressions the package cannot evaluate, listing each', async () => {
    const graph = {
      nodes: [
        node('start', 'trigger', { inputs: { xs: { type: 'object' } } }),
        node('pick', 'transform', { expression: '$map(inputs.xs.items, function($v) { $v * 2 })' }),
        node('gate', 'condition', { expression: 'inputs.xs.items[0] > 1' }),
        node('out', 'output', { value: '{{> partial}}' }),
      ],
      edges: [edge('start', 'pick'), edge('pick', 'gate'), edge('gate', 'out', 'true')],
    };
    const workflowId = await createWorkflow(stack, owner, graph, 'Unexportable');
    const res = await stack.request('POST', `/api/v1/workflows/${workflowId}/exports`, { token: owner.token, body: {} });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('EXPORT_UNSUPPORTED');
    const fields = new Set(res.body.error.details.problems.map((p: any) => `${p.nodeId}.${p.field}`));
    expect([...fields].sort()).toEqual(['gate.expression', 'out.value', 'pick.expression']);
    const rows = await stack.request('GET', `/api/v1/workflows/${workflowId}`, { token: owner.token });
    expect(rows.status).toBe(200);
  });

  it('refuses mcp and workflow tools with 422, listing the node, the tool and the reason; http tools export', async () => {
    const agent = (tools: unknown[]) => ({
      nodes: [
        node('start', 'trigger', { inputs: { topic: { type: 'string', required: true } } }),
        node('a', 'agent', { provider: 'echo', model: 'echo-1', prompt: 'About {{inputs.topic}}', tools }),
        node('out', 'output', { value: '{{nodes.a.text}}' }),
      ],
      edges: [edge('start', 'a'), edge('a', 'out')],
    });
    const http = { type: 'http', name: 'lookup', method: 'GET', url: 'http://127.0.0.1:9/lookup?q={{args.q}}' };
    const refused = await createWorkflow(stack, owner, agent([http, { type: 'mcp', serverId: 'srv-1' }, { type: 'workflow', name: 'summarise', workflowId: '00000000-0000-4000-8000-000000000009' }]), 'MCP tools');
    const res = await stack.request('POST', `/api/v1/workflows/${refused}/exports`, { token: owner.token, body: {} });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('EXPORT_UNSUPPORTED');
    expect(res.body.error.details.problems.map((p: any) => [p.nodeId, p.field, p.tool])).toEqual([
      ['a', 'tools', 'mcp:srv-1'],
      ['a', 'tools', 'summarise'],
    ]);
    expect(res.body.error.details.problems[0].message).toContain('no MCP client');
    const exportable = await createWorkflow(stack, owner, agent([http]), 'Http tools');
    // The wheel builds: the package carries the tool loop and the http tool.
    expect((await waitForExport(stack, owner, await startExport(stack, owner, exportable))).status).toBe('succeeded');
  });

  it('answers 404 to another tenant on every export route', async () => {
    const workflowId = await createWorkflow(stack, owner, approvalGraph, 'Private export');
    const exportId = await startExport(stack, owner, workflowId);
    await waitForExport(stack, owner, exportId);
    const other = await registerTenant(stack);
    const attempts = [
      await stack.request('POST', `/api/v1/workflows/${workflowId}/exports`, { token: other.token, body: {} }),
      await stack.request('GET', `/api/v1/workflows/${workflowId}/exports`, { token: other.token }),
      await stack.request('GET', `/api/v1/exports/${exportId}`, { token: other.token }),
      await stack.request('GET', `/api/v1/exports/${exportId}/events`, { token: other.token }),
      await stack.request('GET', `/api/v1/exports/${exportId}/download`, { token: other.token }),
      await stack.request('POST', `/api/v1/exports/${exportId}/deployments`, { token: other.token, body: { inputs: { item: 'x' } } }),
      await stack.request('POST', `/api/v1/exports/${exportId}/cancel`, { token: other.token }),
    ];
    expect(attempts.map((r) => r.status)).toEqual([404, 404, 404, 404, 404, 404, 404]);
    const ws = await openSocket(stack.wsUrl, other.token);
    ws.send({ type: 'subscribe', executionId: exportId, afterSeq: 0 });
    const refused = await ws.waitFor((m: any) => m.type === 'error');
    expect(refused.code).toBe('NOT_FOUND');
    await ws.close();
  });
});

describe('hostile names and prompts', () => {
  it('build, install and run a package whose name and strings try to break Python, TOML and Handlebars', async () => {
    const hostile = `"""; import os; os.system("echo PWN" "ED") #\\' \n[tool.evil]\nname = "x" {{inputs.q}} ü 😀 class def None\u2028\u0007 tab\t cr\r`;
    const name = `${hostile} ${'very long '.repeat(40)}`;
    const graph = {
      nodes: [
        node('start', 'trigger', { inputs: { q: { type: 'string', required: true, description: hostile } } }),
        node('class', 'agent', { provider: 'echo', model: hostile.slice(0, 150), system: hostile, prompt: `${hostile} -> {{inputs.q}} \\{{escaped}} '''` }),
        node('import', 'transform', { expression: `"${'\\"'}" & nodes.class.text & '"""'` }),
        node('def', 'output', { value: `{{nodes.class.text}}|{{nodes.import}}|${"'''\"\"\"\\n"}` }),
      ],
      edges: [edge('start', 'class'), edge('class', 'import'), edge('import', 'def')],
    };
    const workflowId = await createWorkflow(stack, owner, graph, name.slice(0, 200));
    const exportId = await startExport(stack, owner, workflowId);
    const view = await waitForExport(stack, owner, exportId);
    expect({ status: view.status, error: view.error }).toEqual({ status: 'succeeded', error: null });
    expect(view.packageName).toMatch(/^tessera-[a-z0-9-]+$/);
    const wheel = await downloadWheel(stack, owner, exportId, workDir);
    const bin = await installWheel(wheel.file);
    const q = `${hostile}{{inputs.q}}`;
    const platform = await platformOutputs(workflowId, { q });
    const exported = await exportedOutputs(bin, view.packageName, ['--input', `q=${q}`]);
    expect(exported).toEqual(platform);
    // Had any of it been code, the package would have printed PWNED (the source only ever holds "PWN" "ED").
    const help = await runExported(bin, view.packageName, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('PWN');
    expect(`${help.stdout}${help.stderr}${JSON.stringify(exported)}`).not.toContain('PWNED');
  });
});

describe('a failing build', () => {
  it('is retried, then fails the export with the build log', async () => {
    // A worker whose Python lacks python3-build: a real, deterministic build failure.
    const failing = await startTestStack({ dataDir, exportPython: process.env.TESSERA_TEST_PYTHON_WITHOUT_BUILD ?? `${process.env.HOME}/.pyenv/shims/python3` });
    try {
      const session = await registerTenant(failing);
      const workflowId = await createWorkflow(failing, session, approvalGraph, 'Unbuildable');
      const exportId = await startExport(failing, session, workflowId);
      const view = await waitForExport(failing, session, exportId);
      expect(view.status).toBe('failed');
      expect(view.error.code).toBe('EXPORT_FAILED');
      expect(view.buildLog).toContain('== build attempt 3 ==');
      expect(view.buildLog).toContain('No module named build');
      // A failed export keeps its work directory for inspection, one tree per build attempt.
      expect(existsSync(path.join(dataDir, 'exports', 'work', session.tenantId, exportId, 'build-3', 'pyproject.toml'))).toBe(true);
      const download = await failing.request('GET', `/api/v1/exports/${exportId}/download`, { token: session.token });
      expect(download.status).toBe(409);
    } finally {
      await failing.close();
    }
  });
});

describe('a relative DATA_DIR (the default `.data` is one)', () => {
  it('still builds, stores and serves the wheel', async () => {
    const absolute = mkdtempSync(path.join(tmpdir(), 'tessera-relative-data-'));
    const relative = path.relative(process.cwd(), absolute);
    expect(path.isAbsolute(relative)).toBe(false);
    const stackWithRelative = await startTestStack({ dataDir: relative });
    try {
      const session = await registerTenant(stackWithRelative);
      const workflowId = await createWorkflow(stackWithRelative, session, approvalGraph, 'Relative data');
      const exportId = await startExport(stackWithRelative, session, workflowId);
      const view = await waitForExport(stackWithRelative, session, exportId);
      expect({ status: view.status, error: view.error }).toEqual({ status: 'succeeded', error: null });
      const wheel = await downloadWheel(stackWithRelative, session, exportId, workDir);
      expect(createHash('sha256').update(wheel.bytes).digest('hex')).toBe(view.sha256);
    } finally {
      await stackWithRelative.close();
      rmSync(absolute, { recursive: true, force: true });
    }
  });
});
