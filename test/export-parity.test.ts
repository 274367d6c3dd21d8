// The exported runner mirrors the run machine (issue 10, item 4): one row per transition kind, the same plan,
// inputs and scripted outcomes through the platform's machine (core/run-machine.ts, driven in-process by
// test/support/scripted-run.ts) and through the package's runner (templates/package/runner.py + machine.py,
// in Debian's Python with a scripted agent), and both must decide the same: the run's end and error, every
// node's status, attempts and handle, the outputs, the events and node rows in order, and the commands.
import { compileGraph } from '../core/compile';
import { compileExportPlan, ExportUnsupported } from '../core/export-plan';
import type { CanvasEdge, CanvasNode } from '../core/graph';
import { eventView, runScripted, type RunScript, type ScriptedRunResult } from './support/scripted-run';
import { runInPython, spawnPythonCli } from './support/python-runner';
import { waitUntil } from './support/wait-until';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';

jest.setTimeout(60_000);

const node = (id: string, type: CanvasNode['type'], data: Record<string, unknown> = {}): CanvasNode => ({ id, type, position: { x: 0, y: 0 }, data }) as CanvasNode;
const trigger = (inputs: Record<string, unknown> = { topic: { type: 'string', required: true } }) => node('start', 'trigger', { inputs });
const agent = (id: string, data: Record<string, unknown> = {}) => node(id, 'agent', { provider: 'echo', model: 'echo-1', prompt: `${id} on {{inputs.topic}}`, ...data });
const fastRetry = (maximumAttempts: number) => ({ retry: { maximumAttempts, initialIntervalSeconds: 0.01, backoffCoefficient: 2 } });
const transform = (id: string, template: string) => node(id, 'transform', { template });
const output = (id: string, value: string) => node(id, 'output', { value });
const edge = (source: string, target: string, sourceHandle?: string): CanvasEdge => ({ id: `${source}-${target}-${sourceHandle ?? ''}`, source, target, ...(sourceHandle ? { sourceHandle } : {}) }) as CanvasEdge;
const graph = (nodes: CanvasNode[], edges: CanvasEdge[]) => compileGraph({ nodes, edges }, { workflowId: 'wf-parity', workflowVersion: 1 });

const chain = graph(
  [trigger(), agent('draft'), transform('shape', 'Shaped: {{nodes.draft.text}}'), output('done', '{{nodes.shape}} / {{inputs.topic}}')],
  [edge('start', 'draft'), edge('draft', 'shape'), edge('shape', 'done')],
);
// A condition whose untaken side is a chain (no → noMore), a fan-in that still runs, and an output evaluated in
// the same wave as the condition.
const branching = graph(
  [
    trigger({ topic: { type: 'string', required: true }, n: { type: 'number', default: 3 } }),
    node('check', 'condition', { expression: 'inputs.n > 5' }),
    transform('yes', 'big {{inputs.n}}'),
    transform('no', 'small {{inputs.n}}'),
    transform('noMore', 'still small {{nodes.no}}'),
    output('picked', '{{nodes.yes}}{{nodes.noMore}}'),
    output('always', 'topic {{inputs.topic}}'),
  ],
  [edge('start', 'check'), edge('check', 'yes', 'true'), edge('check', 'no', 'false'), edge('no', 'noMore'), edge('yes', 'picked'), edge('noMore', 'picked'), edge('start', 'always')],
);
const retrying = (maximumAttempts: number) =>
  graph([trigger(), agent('draft', fastRetry(maximumAttempts)), output('done', '{{nodes.draft.text}}')], [edge('start', 'draft'), edge('draft', 'done')]);
const siblings = graph(
  [trigger(), agent('left'), agent('right'), transform('join', '{{nodes.left.text}} + {{nodes.right.text}}'), output('done', '{{nodes.join}}')],
  [edge('start', 'left'), edge('start', 'right'), edge('left', 'join'), edge('right', 'join'), edge('join', 'done')],
);
const failingText = graph([trigger(), node('bad', 'transform', { expression: 'inputs.topic + 1' }), output('done', '{{nodes.bad}}')], [edge('start', 'bad'), edge('bad', 'done')]);
const review = (data: Record<string, unknown> = {}) =>
  graph(
    [
      trigger(),
      agent('draft'),
      node('review', 'approval', { title: 'Publish {{inputs.topic}}?', ...data }),
      output('published', 'published {{nodes.draft.text}} ({{nodes.review.decision}} by {{nodes.review.decidedBy}})'),
      output('dropped', 'dropped ({{nodes.review.decision}} by {{nodes.review.decidedBy}})'),
    ],
    [edge('start', 'draft'), edge('draft', 'review'), edge('review', 'published', 'approved'), edge('review', 'dropped', 'rejected')],
  );
// onError: the draft's final failure goes to a recovery agent (branch: its error edge only) or on (continue).
const recovering = (onError: 'branch' | 'continue') =>
  graph(
    [
      trigger(),
      agent('draft', { onError, ...fastRetry(2) }),
      output('done', 'done {{nodes.draft.text}}'),
      agent('fix', { prompt: 'fix {{nodes.draft.error.code}}: {{nodes.draft.error.message}}' }),
      output('saved', '{{nodes.fix.text}}'),
    ],
    [edge('start', 'draft'), edge('draft', 'done'), edge('draft', 'fix', onError === 'branch' ? 'error' : undefined), edge('fix', 'saved')],
  );

interface Row {
  kind: string;
  plan: ReturnType<typeof graph>;
  inputs?: Record<string, unknown>;
  script?: RunScript;
  /** What the machine must decide (so the row cannot pass with both sides wrong the same way). */
  status: ScriptedRunResult['status'];
  nodes?: Record<string, string>;
  attempts?: Record<string, number>;
  /** Error messages of texts come from JSONata on one side and the Python evaluator on the other. */
  messages?: false;
}

const rows: Row[] = [
  { kind: 'success chain: trigger, agent, transform, output; run outputs', plan: chain, status: 'succeeded', nodes: { draft: 'succeeded', done: 'succeeded' } },
  {
    kind: 'condition true: the untaken handle and everything only reachable from it are skipped, the fan-in runs',
    plan: branching,
    inputs: { topic: 'owls', n: 9 },
    status: 'succeeded',
    nodes: { yes: 'succeeded', no: 'skipped', noMore: 'skipped', picked: 'succeeded', always: 'succeeded' },
  },
  { kind: 'condition false: the other side', plan: branching, inputs: { topic: 'owls', n: 2 }, status: 'succeeded', nodes: { yes: 'skipped', no: 'succeeded', noMore: 'succeeded', picked: 'succeeded' } },
  {
    kind: 'agent retry: retryable failures are retried after the backoff, attempts counted',
    plan: retrying(3),
    script: { agents: { draft: [{ fail: 'busy (429)', retryable: true }, { fail: 'busy again (503)', retryable: true }, { text: 'third time' }] } },
    status: 'succeeded',
    attempts: { draft: 3 },
  },
  {
    kind: 'agent retry: the provider Retry-After beats the backoff',
    plan: retrying(2),
    script: { agents: { draft: [{ fail: 'slow down', retryable: true, retryAfterMs: 40 }] } },
    status: 'succeeded',
    attempts: { draft: 2 },
  },
  {
    kind: 'agent retries exhausted: the run fails with the true attempt count',
    plan: retrying(3),
    script: { agents: { draft: [1, 2, 3].map((i) => ({ fail: `down ${i}`, retryable: true })) } },
    status: 'failed',
    nodes: { draft: 'failed', done: 'cancelled' },
    attempts: { draft: 3 },
  },
  {
    kind: 'agent failure not retryable: fails at once',
    plan: retrying(3),
    script: { agents: { draft: [{ fail: 'invalid api key (401)', retryable: false }] } },
    status: 'failed',
    nodes: { draft: 'failed', done: 'cancelled' },
    attempts: { draft: 1 },
  },
  {
    kind: 'failure fan-out: a failed sibling stops the turn in flight and cancels what is left',
    plan: siblings,
    script: { agents: { left: [{ fail: 'left broke', retryable: false }], right: [{ hang: true }] } },
    status: 'failed',
    nodes: { left: 'failed', right: 'cancelled', join: 'cancelled', done: 'cancelled' },
  },
  {
    kind: 'parallel turns: the join waits for both',
    plan: siblings,
    script: { agents: { left: [{ text: 'L' }], right: [{ text: 'R', after: 'left' }] } },
    status: 'succeeded',
    nodes: { left: 'succeeded', right: 'succeeded', join: 'succeeded' },
  },
  { kind: 'a failed text fails its node with NODE_ERROR', plan: failingText, status: 'failed', nodes: { bad: 'failed', done: 'cancelled' }, messages: false },
  {
    kind: 'cancellation mid-turn (Ctrl-C): the run is cancelled, open nodes cancelled',
    plan: siblings,
    script: { agents: { left: [{ text: 'L' }], right: [{ hang: true, after: 'left' }] }, cancelWhen: 'right' },
    status: 'cancelled',
    nodes: { left: 'succeeded', right: 'cancelled', join: 'cancelled', done: 'cancelled' },
  },
  {
    kind: 'cancellation at an approval prompt (Ctrl-C)',
    plan: review(),
    script: { approvals: { review: 'interrupt' } },
    status: 'cancelled',
    nodes: { draft: 'succeeded', review: 'cancelled', published: 'cancelled', dropped: 'cancelled' },
  },
  { kind: 'approval approved: its handle picks the branch', plan: review(), script: { approvals: { review: 'approve' } }, status: 'succeeded', nodes: { published: 'succeeded', dropped: 'skipped' } },
  { kind: 'approval rejected', plan: review(), script: { approvals: { review: 'reject' } }, status: 'succeeded', nodes: { published: 'skipped', dropped: 'succeeded' } },
  {
    kind: 'approval timeout, onTimeout approve',
    plan: review({ timeoutSeconds: 60, onTimeout: 'approve' }),
    script: { approvals: { review: 'timeout' } },
    status: 'succeeded',
    nodes: { published: 'succeeded', dropped: 'skipped' },
  },
  {
    kind: 'approval timeout, onTimeout reject (the default)',
    plan: review({ timeoutSeconds: 60 }),
    script: { approvals: { review: 'timeout' } },
    status: 'succeeded',
    nodes: { published: 'skipped', dropped: 'succeeded' },
  },
  {
    kind: 'approval timeout, onTimeout fail: the run times out',
    plan: review({ timeoutSeconds: 60, onTimeout: 'fail' }),
    script: { approvals: { review: 'timeout' } },
    status: 'timed_out',
    nodes: { review: 'failed', published: 'cancelled', dropped: 'cancelled' },
  },
  {
    kind: 'onError branch: after its retries the failed agent takes its error edge to a recovery agent; the normal edge is skipped',
    plan: recovering('branch'),
    script: { agents: { draft: [{ fail: 'busy (503)', retryable: true }, { fail: 'bad request (400)', retryable: false }] } },
    status: 'succeeded',
    nodes: { draft: 'succeeded', done: 'skipped', fix: 'succeeded', saved: 'succeeded' },
    attempts: { draft: 2 },
  },
  {
    kind: 'onError continue: the failed agent succeeds with the error on its normal edges',
    plan: recovering('continue'),
    script: { agents: { draft: [{ fail: 'bad request (400)', retryable: false }] } },
    status: 'succeeded',
    nodes: { draft: 'succeeded', done: 'succeeded', fix: 'succeeded', saved: 'succeeded' },
  },
];

const decideFlags = (script: RunScript) =>
  Object.entries(script.approvals ?? {}).flatMap(([nodeId, verdict]) => (verdict === 'interrupt' ? [] : ['--decide', `${nodeId}=${verdict}`]));

/** `value` without its `key` (the runner's own fields that the platform's result does not have). */
function withoutKey<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

function withoutMessages(result: ScriptedRunResult): ScriptedRunResult {
  return {
    ...result,
    error: result.error ? { ...result.error, message: '-' } : null,
    events: result.events.map((event) => withoutKey(event, 'error')),
  };
}

describe('the exported runner decides every transition as the run machine does', () => {
  test.each(rows)('$kind', async (row) => {
    const inputs = row.inputs ?? { topic: 'owls' };
    const script = row.script ?? {};
    const platform = await runScripted(row.plan, inputs, script);
    const python = await runInPython({ plan: compileExportPlan(row.plan), inputs, argv: decideFlags(script), script });

    expect(python.raised?.code ?? null).toBe(python.status === 'succeeded' ? null : python.status === 'cancelled' ? 'RUN_CANCELLED' : python.error?.code);
    const exported = withoutKey(python, 'raised');
    const compared = row.messages === false ? [withoutMessages(platform), withoutMessages(exported)] : [platform, exported];
    expect(compared[1]).toEqual(JSON.parse(JSON.stringify(compared[0])));

    // The row's own expectations, so both sides cannot agree on a wrong decision.
    expect(platform.status).toBe(row.status);
    for (const [id, status] of Object.entries(row.nodes ?? {})) expect([id, platform.nodes[id]!.status]).toEqual([id, status]);
    for (const [id, attempts] of Object.entries(row.attempts ?? {})) expect([id, platform.nodes[id]!.attempts]).toEqual([id, attempts]);
  });

  test('the rows cover every kind of happening and command the machine knows', async () => {
    const seen = { happenings: new Set<string>(), commands: new Set<string>() };
    for (const row of rows) {
      const r = await runScripted(row.plan, row.inputs ?? { topic: 'owls' }, row.script ?? {});
      for (const c of r.commands) seen.commands.add(c.split(':')[0]!);
      for (const e of r.events) seen.happenings.add(e.type);
      seen.happenings.add(`execution.${r.status}`);
    }
    expect([...seen.commands].sort()).toEqual(['callAgent', 'evaluate', 'finish', 'stopInFlight', 'waitApproval']);
    expect([...seen.happenings].sort()).toEqual(
      ['execution.cancelled', 'execution.failed', 'execution.started', 'execution.succeeded', 'execution.timed_out', 'node.failed', 'node.retrying', 'node.skipped', 'node.started', 'node.succeeded', 'node.waiting'].sort(),
    );
  });
});

describe('what the Python machine cannot follow is refused at export, each thing listed', () => {
  const withAgent = (data: Record<string, unknown>) =>
    ({ ...chain, nodes: chain.nodes.map((n) => (n.id === 'draft' ? { ...n, data: { ...n.data, ...data } } : n)) }) as typeof chain;
  const problemsOf = (plan: typeof chain) => {
    try {
      compileExportPlan(plan);
    } catch (err) {
      expect(err).toBeInstanceOf(ExportUnsupported);
      expect((err as ExportUnsupported).status).toBe(422);
      expect((err as ExportUnsupported).details).toEqual({ problems: (err as ExportUnsupported).problems });
      return (err as ExportUnsupported).problems;
    }
    throw new Error('the plan was exported');
  };
  const http = { type: 'http', name: 'lookup', method: 'GET', url: 'http://127.0.0.1/lookup?q={{args.q}}' };

  test('mcp and workflow tools and tool approvals: node id, tool and reason; an http tool beside them is fine', () => {
    const problems = problemsOf(
      withAgent({
        tools: [http, { type: 'mcp', serverId: 'srv-1' }, { type: 'workflow', name: 'summarise', workflowId: 'wf-2' }],
        toolApproval: ['lookup'],
      }),
    );
    expect(problems).toEqual([
      { nodeId: 'draft', field: 'tools', tool: 'mcp:srv-1', message: expect.stringContaining('MCP tools (server srv-1) run on the platform only') },
      { nodeId: 'draft', field: 'tools', tool: 'summarise', message: expect.stringContaining('workflow tools (workflow wf-2) run on the platform only') },
      { nodeId: 'draft', field: 'toolApproval', message: expect.stringContaining('set toolApproval to none') },
    ]);
    expect(compileExportPlan(withAgent({ tools: [http], toolApproval: 'none' })).nodes.find((n) => n.id === 'draft')!.compiled.tools).toEqual({
      lookup: { url: expect.objectContaining({ type: 'Program' }), headers: {} },
    });
  });

  test('a parameters schema with keywords outside the subset the package validates', () => {
    const parameters = { type: 'object', properties: { q: { type: 'string', pattern: '^[a-z]+$' }, n: { oneOf: [{ type: 'number' }] } }, additionalProperties: { type: 'string' } };
    expect(problemsOf(withAgent({ tools: [{ ...http, parameters }] })).map((p) => [p.field, p.tool, p.message.split(' (supported')[0]])).toEqual([
      ['tools.lookup.parameters', 'lookup', 'parameters (root): additionalProperties must be true or false in exported packages (a schema there is not supported)'],
      ['tools.lookup.parameters', 'lookup', 'parameters /properties/q: pattern is not supported in exported packages'],
      ['tools.lookup.parameters', 'lookup', 'parameters /properties/n: oneOf is not supported in exported packages'],
    ]);
  });

  test('node types the package has no method for (subflow, map)', () => {
    const plan = { ...chain, nodes: [...chain.nodes, { id: 'child', type: 'subflow', incoming: [], data: {} }, { id: 'each', type: 'map', incoming: [], data: {} }] } as unknown as typeof chain;
    expect(problemsOf(plan)).toEqual([
      { nodeId: 'child', field: 'type', message: 'subflow nodes run on the platform only: the exported runner has no subflow node' },
      { nodeId: 'each', field: 'type', message: 'map nodes run on the platform only: the exported runner has no map node' },
    ]);
  });
});

describe('the exported command line', () => {
  test('Ctrl-C (SIGINT) mid-turn cancels the run as the machine does: open nodes cancelled, exit status 130', async () => {
    const script: RunScript = { agents: { left: [{ text: 'L' }], right: [{ hang: true, after: 'left' }] }, cancelWhen: 'right' };
    const platform = await runScripted(siblings, { topic: 'owls' }, script);
    const cli = spawnPythonCli({ plan: compileExportPlan(siblings), inputs: {}, argv: ['--verbose', '--input', 'topic=owls'], script: { agents: script.agents } });
    const events = () => cli.lines().filter((l) => l.startsWith('{"type"')).map((l) => JSON.parse(l) as { type: string; nodeId?: string });
    // The left turn has answered and the right one hangs: the run waits on the right turn alone.
    await waitUntil('the left turn answered', async () => events().some((e) => e.type === 'node.succeeded' && e.nodeId === 'left'));
    cli.child.kill('SIGINT');
    const done = await cli.exited;
    expect(done.code).toBe(130);
    expect(done.stdout).toBe('');
    const lines = done.stderr.trim().split('\n');
    expect(JSON.parse(lines[lines.length - 1]!)).toEqual({ error: { code: 'RUN_CANCELLED', message: 'the run was cancelled', nodeId: null } });
    expect(events().map((e) => eventView(e as never))).toEqual(JSON.parse(JSON.stringify(platform.events)));
  });

  test('--decide NODE=timeout applies the node policy; onTimeout fail ends the run timed out with exit status 1', async () => {
    const plan = review({ timeoutSeconds: 60, onTimeout: 'fail' });
    const cli = spawnPythonCli({ plan: compileExportPlan(plan), inputs: {}, argv: ['--input', 'topic=owls', '--decide', 'review=timeout'], script: {} });
    const done = await cli.exited;
    expect(done.code).toBe(1);
    expect(JSON.parse(done.stderr.trim())).toEqual({ error: { code: 'APPROVAL_TIMED_OUT', message: 'approval review was not decided within 60 s', nodeId: 'review' } });

    const approving = spawnPythonCli({ plan: compileExportPlan(review({ timeoutSeconds: 60, onTimeout: 'approve' })), inputs: {}, argv: ['--input', 'topic=owls', '--decide', 'review=timeout'], script: {} });
    const approved = await approving.exited;
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toEqual({ published: 'published draft on owls (approved by timeout)' });
  });

  test('on a terminal the approval is asked for at most its timeoutSeconds, then its onTimeout applies; an answer decides it', async () => {
    const plan = compileExportPlan(review({ timeoutSeconds: 1, onTimeout: 'approve' }));
    const unanswered = await spawnPythonCli({ plan, inputs: {}, argv: ['--input', 'topic=owls'], script: {}, tty: '' }).exited;
    expect(unanswered.code).toBe(0);
    expect(JSON.parse(unanswered.stdout)).toEqual({ published: 'published draft on owls (approved by timeout)' });
    expect(unanswered.stderr).toContain('Publish owls? [approve/reject]: ');
    expect(unanswered.stderr).toContain('(no answer within 1 s)');

    const answered = await spawnPythonCli({ plan, inputs: {}, argv: ['--input', 'topic=owls'], script: {}, tty: 'reject\n' }).exited;
    expect(answered.code).toBe(0);
    expect(JSON.parse(answered.stdout)).toEqual({ dropped: 'dropped (rejected by cli)' });
  });
});

describe('the package providers feed the machine as the platform does', () => {
  let llm: FakeLlmServer;
  beforeAll(async () => {
    llm = await startFakeLlmServer();
  });
  afterAll(async () => {
    await llm?.close();
  });
  beforeEach(() => llm.reset());

  const model = 'gpt-parity';
  const openaiChain = graph(
    [trigger(), agent('draft', { provider: 'openai', model, ...fastRetry(3) }), output('done', '{{nodes.draft.text}}')],
    [edge('start', 'draft'), edge('draft', 'done')],
  );
  const cases = [
    {
      kind: 'a 429 with Retry-After and a 503 are retried (the Retry-After beats the backoff), then the answer',
      answers: [{ status: 429, retryAfterSeconds: 0.05 }, { status: 503 }, {}],
      outcomes: [{ fail: '429', retryable: true, retryAfterMs: 50 }, { fail: '503', retryable: true }, { text: `fake:${model}:draft on owls` }],
      status: 'succeeded',
      attempts: 3,
    },
    { kind: 'a 401 fails at once', answers: [{ status: 401 }], outcomes: [{ fail: '401', retryable: false }], status: 'failed', attempts: 1 },
  ];

  test.each(cases)('openai over HTTP: $kind', async (c) => {
    llm.script(model, ...c.answers);
    const platform = await runScripted(openaiChain, { topic: 'owls' }, { agents: { draft: c.outcomes } });
    const python = await runInPython({
      plan: compileExportPlan(openaiChain),
      inputs: { topic: 'owls' },
      argv: [],
      script: {},
      realProviders: true,
      env: { OPENAI_API_KEY: 'sk-parity', OPENAI_BASE_URL: llm.openaiBaseURL },
    });
    const exported = withoutKey(python, 'raised');
    // The words differ (the provider's error body against the script's); what was decided may not.
    expect(withoutMessages(exported)).toEqual(JSON.parse(JSON.stringify(withoutMessages(platform))));
    expect(platform.status).toBe(c.status);
    expect(platform.nodes.draft!.attempts).toBe(c.attempts);
    expect(llm.callsFor(model)).toHaveLength(c.attempts);
    if (c.status === 'failed') expect(python.error?.message).toContain('HTTP 401');
  });
});
