// The exported package runs tool-calling agents as Tessera does (issue 11 item 9): the same canvas, an agent
// with an http tool against a loopback test server, run on the platform (real Temporal, the worker's real
// openai and @anthropic-ai/sdk clients) and by the exported runner (templates/package, its standard-library
// providers and http tool) against the same fake provider, for both protocols. Both must give the same
// outputs, the same agent output (text, usage summed over rounds, rounds, every call with its arguments and
// result or error), the same tool-call and model-call events, and the test server must see one request per
// call from each. The SSRF check of the package is tested on its own, aiming only at loopback.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileGraph } from '../core/compile';
import { compileExportPlan } from '../core/export-plan';
import { argumentProblems, compileToolParameters } from '../core/tool-schema';
import type { CanvasEdge, CanvasNode } from '../core/graph';
import { startFakeLlmServer, type FakeLlmBehaviour, type FakeLlmServer } from './fake-llm/server';
import { SYSTEM_PYTHON, stagePackage } from './support/python-evaluators';
import { runInPython, type PythonRunResult } from './support/python-runner';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startToolServer, type ToolServer } from './support/tool-server';
import { startTestStack, type TestStack } from './support/stack';

jest.setTimeout(120_000);

let stack: TestStack;
let fake: FakeLlmServer;
let tools: ToolServer;
let owner: TestSession;

const KEYS = { openai: 'sk-export-tools', anthropic: 'sk-ant-export-tools' };

beforeAll(async () => {
  fake = await startFakeLlmServer();
  tools = await startToolServer();
  stack = await startTestStack({
    providers: { openai: { apiKey: KEYS.openai, baseURL: fake.openaiBaseURL }, anthropic: { apiKey: KEYS.anthropic, baseURL: fake.anthropicBaseURL } },
    toolAllowedHosts: '127.0.0.1',
  });
  owner = await registerTenant(stack);
});

afterAll(async () => {
  await stack?.close();
  await fake?.close();
  await tools?.close();
});

beforeEach(() => {
  fake.reset();
  tools.reset();
});

const lookupTool = () => ({
  type: 'http',
  name: 'lookup',
  description: 'Looks a word up',
  method: 'GET',
  url: `${tools.url}/lookup?q={{args.q}}&topic={{inputs.topic}}`,
  parameters: { type: 'object', properties: { q: { type: 'string', minLength: 2 } }, required: ['q'], additionalProperties: false },
});

function canvas(agent: Record<string, unknown>): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
      { id: 'a', type: 'agent', position: { x: 200, y: 0 }, data: { prompt: 'Tell me about {{inputs.topic}}', tools: [lookupTool()], ...agent } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.a.text}} ({{nodes.a.rounds}} rounds)' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'a' },
      { id: 'e2', source: 'a', target: 'out' },
    ] as CanvasEdge[],
  };
}

/**
 * The agent's events as both sides record them, with the tool loop's fields (not durations, sizes and previews,
 * which only the platform's views keep), sorted: parallel calls may end in either order.
 */
function loopEvents(events: { type: string; nodeId?: string | null; data?: Record<string, unknown> | null }[], nodeId = 'a'): string[] {
  const fields = ['status', 'attempt', 'round', 'callId', 'tool', 'callStatus', 'arguments', 'toolCalls', 'usage', 'model', 'code', 'error', 'speaker', 'chosenBy', 'text'];
  return events
    .filter((e) => e.nodeId === nodeId)
    .map((e) => {
      // The platform's node.succeeded also carries the node's usage for its views; a model call's usage is the loop's.
      const shown = e.type.startsWith('model_call.') || e.type.startsWith('conversation.') ? fields : fields.filter((k) => k !== 'usage' && k !== 'text');
      return [e.type, ...shown.flatMap((k) => (e.data?.[k] !== undefined ? [`${k}=${sortedJson(e.data[k])}`] : []))].join(' ');
    })
    .sort();
}

/** JSON with object keys sorted: the platform's events come back from jsonb, which orders keys its own way. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** What the tool server saw, sorted (parallel calls arrive in either order). */
function seenRequests(): string[] {
  return tools.requests.map((r) => `${r.path}?q=${r.q}`).sort();
}

/** Whether the server's requests were all open at once: each arrived before any was answered. */
function overlapped(): boolean {
  const started = Math.max(...tools.requests.map((r) => r.startedAt));
  return tools.requests.every((r) => r.endedAt !== undefined && r.endedAt >= started);
}

interface Compared {
  status: string;
  outputs: unknown;
  error: unknown;
  agent: unknown;
  events: string[];
  requests: string[];
}

async function onPlatform(agent: Record<string, unknown>, script: FakeLlmBehaviour[], model: string, prepare?: () => void): Promise<Compared> {
  fake.script(model, ...script);
  tools.reset();
  prepare?.();
  const workflowId = await createWorkflow(stack, owner, canvas(agent), `Export tools ${model}`);
  const executionId = await startRun(stack, owner, workflowId, { topic: 'tea' });
  const done = await waitForExecution(stack, owner, executionId);
  const events = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
  const agentRow = done.nodes.find((n: { nodeId: string }) => n.nodeId === 'a');
  return {
    status: done.status,
    outputs: done.outputs ?? {},
    error: done.error ? { code: done.error.code, message: done.error.message } : null,
    agent: agentRow?.output ?? null,
    events: loopEvents(events.body.events),
    requests: seenRequests(),
  };
}

async function inPackage(
  agent: Record<string, unknown>,
  script: FakeLlmBehaviour[],
  model: string,
  env: Record<string, string> = { TOOL_ALLOWED_HOSTS: '127.0.0.1' },
  prepare?: () => void,
): Promise<Compared & { python: PythonRunResult }> {
  fake.script(model, ...script);
  tools.reset();
  prepare?.();
  const plan = compileExportPlan(compileGraph(canvas(agent), { workflowId: 'wf-export-tools', workflowVersion: 1 }));
  const python = await runInPython({
    plan,
    inputs: { topic: 'tea' },
    argv: [],
    script: {},
    realProviders: true,
    details: true,
    env: {
      OPENAI_API_KEY: KEYS.openai,
      OPENAI_BASE_URL: fake.openaiBaseURL,
      ANTHROPIC_API_KEY: KEYS.anthropic,
      ANTHROPIC_BASE_URL: fake.anthropicBaseURL,
      ...env,
    },
  });
  return {
    status: python.status,
    outputs: python.outputs,
    error: python.error ? { code: python.error.code, message: python.error.message } : null,
    agent: python.status === 'succeeded' ? (python.nodeOutputs?.a ?? null) : null,
    events: loopEvents(python.ledgerEvents ?? []),
    requests: seenRequests(),
    python,
  };
}

const PROTOCOLS = [
  { provider: 'openai', callId: (n: number) => `call_${n}` },
  { provider: 'anthropic', callId: (n: number) => `toolu_${n}` },
] as const;

const toolResult = (q: string) => ({ status: 200, body: { q, answer: `about ${q}` } });

describe.each(PROTOCOLS)('$provider: the exported package runs the tool loop as Tessera does', ({ provider, callId }) => {
  async function both(name: string, agent: Record<string, unknown>, script: FakeLlmBehaviour[]): Promise<[Compared, Compared]> {
    const model = `${provider}-${name}`;
    const platform = await onPlatform({ provider, model, ...agent }, script, model);
    const platformCalls = fake.callsFor(model).map((c) => ({ tools: c.tools, toolResults: c.toolResults }));
    const exported = await inPackage({ provider, model, ...agent }, script, model);
    const packageCalls = fake.callsFor(model).slice(platformCalls.length).map((c) => ({ tools: c.tools, toolResults: c.toolResults }));
    // The model was offered the same tools and told the same results, call by call.
    expect(packageCalls).toEqual(platformCalls);
    const { python: _python, ...compared } = exported;
    void _python;
    expect(compared).toEqual(platform);
    return [platform, compared];
  }

  test('one http tool call: the model gets the result and answers with it; one request per call on each side', async () => {
    const [platform] = await both('one', {}, [
      { toolCalls: [{ id: callId(1), name: 'lookup', arguments: { q: 'green' } }], usage: { inputTokens: 10, outputTokens: 3 } },
      { usage: { inputTokens: 20, outputTokens: 5 } },
    ]);
    expect(platform.status).toBe('succeeded');
    expect(platform.requests).toEqual(['/lookup?q=green']);
    expect(platform.agent).toEqual({
      text: `fake:${provider}-one:tools:${JSON.stringify(toolResult('green'))}`,
      usage: { inputTokens: 30, outputTokens: 8, totalTokens: 38 },
      model: `${provider}-one`,
      provider,
      rounds: 2,
      toolCalls: [{ id: callId(1), name: 'lookup', arguments: { q: 'green' }, result: toolResult('green') }],
    });
    expect(platform.events.some((e) => e.includes('tool_call.succeeded'))).toBe(true);
  });

  test('parallel tool calls: both requests are in flight at once on each side, results in the order asked', async () => {
    const script: FakeLlmBehaviour[] = [
      { toolCalls: [{ id: callId(1), name: 'lookup', arguments: { q: 'green' } }, { id: callId(2), name: 'lookup', arguments: { q: 'black' } }] },
      {},
    ];
    const model = `${provider}-parallel`;
    // Neither request is answered until both are in flight: calls made one after the other would never end.
    const platform = await onPlatform({ provider, model }, script, model, () => tools.holdUntil(2));
    const platformOverlapped = overlapped();
    const exported = await inPackage({ provider, model }, script, model, undefined, () => tools.holdUntil(2));
    expect([platformOverlapped, overlapped()]).toEqual([true, true]);
    const { python: _python, ...compared } = exported;
    void _python;
    expect(compared).toEqual(platform);
    expect(platform.status).toBe('succeeded');
    expect(platform.requests).toEqual(['/lookup?q=black', '/lookup?q=green']);
    expect(platform.outputs).toEqual({ out: `fake:${model}:tools:${JSON.stringify(toolResult('green'))} | ${JSON.stringify(toolResult('black'))} (2 rounds)` });
  });

  test('a bad argument goes back to the model as an error (the same words), and the run succeeds', async () => {
    const [platform] = await both('bad-args', {}, [
      { toolCalls: [{ id: callId(1), name: 'lookup', arguments: { word: 'tea', q: 't' } }] },
      { toolCalls: [{ id: callId(2), name: 'lookup', arguments: { q: 'tea' } }] },
      {},
    ]);
    expect(platform.status).toBe('succeeded');
    expect(platform.requests).toEqual(['/lookup?q=tea']);
    const calls = (platform.agent as { toolCalls: { error?: string }[]; rounds: number }).toolCalls;
    expect(calls[0]!.error).toBe('invalid arguments: (arguments) must NOT have additional properties; /q must NOT have fewer than 2 characters');
    expect((platform.agent as { rounds: number }).rounds).toBe(3);
  });

  test('a model still asking after maxToolRounds fails the node the same way (TOOL_ROUNDS_EXCEEDED)', async () => {
    const [platform] = await both('rounds', { maxToolRounds: 1 }, [
      { toolCalls: [{ id: callId(1), name: 'lookup', arguments: { q: 'one' } }] },
      { toolCalls: [{ id: callId(2), name: 'lookup', arguments: { q: 'two' } }] },
    ]);
    expect(platform.status).toBe('failed');
    expect(platform.error).toEqual({ code: 'TOOL_ROUNDS_EXCEEDED', message: 'agent a still asked for tools (lookup) after 1 tool round (maxToolRounds)' });
    expect(platform.requests).toEqual(['/lookup?q=one']);
  });

  test('a model call failing with a 503 in round 2 is retried after the backoff as that round\'s attempt 2, alike', async () => {
    const model = `${provider}-retry`;
    const script: FakeLlmBehaviour[] = [{ toolCalls: [{ id: callId(1), name: 'lookup', arguments: { q: 'tea' } }] }, { status: 503 }, {}];
    const agent = { provider, model, retry: { maximumAttempts: 3, initialIntervalSeconds: 0.01 } };
    const platform = await onPlatform(agent, script, model);
    const { python: _python, ...exported } = await inPackage(agent, script, model);
    void _python;
    // The words of a 503 are the SDK's on one side and the standard library's on the other; what was decided is not.
    const withoutWords = (c: Compared) => ({ ...c, events: c.events.map((e) => e.replace(/ error=".*"$/, ' error=-')) });
    expect(withoutWords(exported)).toEqual(withoutWords(platform));
    expect(platform.status).toBe('succeeded');
    expect(platform.events.filter((e) => e.startsWith('node.retrying'))).toEqual([expect.stringMatching(/^node\.retrying status="running" attempt=1 round=2 error=/)]);
    expect((platform.agent as { rounds: number }).rounds).toBe(2);
    expect(platform.requests).toEqual(['/lookup?q=tea']);
  });

  test('onError continue: the exceeded rounds become the node output {error} and the run goes on, alike', async () => {
    const [platform] = await both('rounds-continue', { maxToolRounds: 1, onError: 'continue' }, [
      { toolCalls: [{ id: callId(1), name: 'lookup', arguments: { q: 'one' } }] },
      { toolCalls: [{ id: callId(2), name: 'lookup', arguments: { q: 'two' } }] },
    ]);
    expect(platform.status).toBe('succeeded');
    expect(platform.agent).toEqual({ error: { code: 'TOOL_ROUNDS_EXCEEDED', message: 'agent a still asked for tools (lookup) after 1 tool round (maxToolRounds)' } });
  });
});

/**
 * The package's outbound check on its own (templates/package/http_tool.py, address_policy.py), in Debian's
 * Python: every request aims at loopback only (the test server, or names a test resolver answers with
 * 127.0.0.1), and the refusals come before any connection — the server sees nothing it should not.
 */
describe("the package's http tool refuses what the platform's refuses, before connecting", () => {
  const DRIVER = `
import json, sys
from probe import address_policy, http_tool, tool_schema

cases = json.load(sys.stdin)
out = []
for case in cases:
    if case["kind"] == "classify":
        out.append(address_policy.classify_address(case["address"]))
        continue
    if case["kind"] == "arguments":
        out.append(tool_schema.argument_problems(case["schema"], case["args"]))
        continue
    names = case.get("names", {})
    resolve = (lambda host, port: [names[host]] if host in names else http_tool._resolve(host, port))
    settings = http_tool.OutboundSettings(address_policy.AllowedHosts(case.get("allowed", "")), 5000, case.get("cap", 65536), resolve)
    tool = {"name": "lookup", "method": "GET", **case.get("tool", {})}
    compiled = {"url": {"type": "Program", "body": [{"type": "ContentStatement", "value": case["url"]}]}, "headers": {}}
    try:
        out.append({"result": http_tool.run_http_tool(tool, compiled, {}, {"inputs": {}, "nodes": {}}, settings, case.get("env", {}))})
    except http_tool.ToolError as err:
        out.append({"code": err.code, "error": str(err)})
print(json.dumps(out))
`;

  /** Runs the cases in Python without blocking this process, whose test server must answer meanwhile. */
  async function inPython(cases: Record<string, unknown>[]): Promise<any[]> {
    const dir = mkdtempSync(path.join(tmpdir(), 'tessera-outbound-'));
    try {
      stagePackage(dir);
      writeFileSync(path.join(dir, 'driver.py'), DRIVER);
      const child = spawn(SYSTEM_PYTHON, ['driver.py'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.stdin.end(JSON.stringify(cases));
      const [code] = (await once(child, 'close')) as [number | null];
      if (code !== 0) throw new Error(`python failed (${code}): ${stderr}`);
      return JSON.parse(stdout) as any[];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test("the package's argument check says what ajv says, in ajv's order, for the schema subset it exports", async () => {
    const schema = {
      type: 'object',
      properties: {
        q: { type: 'string', minLength: 2, maxLength: 4, enum: ['tea', 'te'] },
        n: { type: 'integer', minimum: 1, maximum: 5 },
        x: { type: 'number' },
        tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, minItems: 1, maxItems: 2 },
        o: { type: 'object', properties: { a: { type: ['number', 'null'] } }, required: ['a'] },
        flag: { type: 'boolean', description: 'annotations check nothing', default: false },
      },
      required: ['q', 'n'],
      additionalProperties: false,
    };
    const args: unknown[] = [
      {}, { q: 5, n: 1.5 }, { q: 'teaxx', n: 9, tags: [], o: {} }, { q: 'x', n: 0, tags: [1, 'c', 'a'], o: { a: 'z' }, extra: 1 },
      { q: 'tea', n: true, x: '1' }, 'text', null, [], { q: 'tea', n: 2, flag: 1, o: { a: null } }, { q: 'tea', n: 2.0, x: 1e300 },
    ];
    const compiled = compileToolParameters(schema);
    if (compiled.ok !== true) throw new Error('the schema does not compile');
    expect(await inPython(args.map((a) => ({ kind: 'arguments', schema, args: a })))).toEqual(args.map((a) => argumentProblems(compiled.validate, a)));
  });

  test('addresses are classified as the platform does (no traffic)', async () => {
    const addresses = ['127.0.0.1', '::1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '169.254.1.1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '100.64.0.1', '0.0.0.0', '224.0.0.1', '192.0.2.1', '8.8.8.8'];
    expect(await inPython(addresses.map((address) => ({ kind: 'classify', address })))).toEqual([
      'loopback', 'loopback', 'private', 'private', 'private', 'metadata', 'link-local', 'link-local', 'unique-local', 'ipv4-mapped', 'cgnat', 'unspecified', 'multicast', 'reserved', 'public',
    ]);
  });

  test('loopback is refused without TOOL_ALLOWED_HOSTS: 127.0.0.1, [::1], localhost, a name resolving to loopback, a redirect to loopback', async () => {
    const port = new URL(tools.url).port;
    const results = await inPython([
      { kind: 'http', url: `${tools.url}/lookup?q=direct` },
      { kind: 'http', url: `http://[::1]:${port}/lookup?q=v6` },
      { kind: 'http', url: `http://localhost:${port}/lookup?q=localhost` },
      { kind: 'http', url: `http://tools.test:${port}/lookup?q=named`, names: { 'tools.test': '127.0.0.1' } },
      // The first hop's host is allowed by name; the redirect's target (127.0.0.1 itself) is not.
      { kind: 'http', url: `http://tools.test:${port}/redirect?to=${encodeURIComponent(`${tools.url}/lookup?q=redirected`)}`, names: { 'tools.test': '127.0.0.1' }, allowed: 'tools.test' },
    ]);
    expect(results.map((r) => r.code)).toEqual(['OUTBOUND_REFUSED', 'OUTBOUND_REFUSED', 'OUTBOUND_REFUSED', 'OUTBOUND_REFUSED', 'OUTBOUND_REFUSED']);
    expect(results[0].error).toBe('refused to connect to 127.0.0.1: 127.0.0.1 is a loopback address; tools may reach it only if TOOL_ALLOWED_HOSTS lists the host or its address');
    expect(results[3].error).toContain('(tools.test resolves to it)');
    expect(results[4].error).toContain('refused to connect to 127.0.0.1');
    // Only the allowed first hop reached the server; nothing refused did.
    expect(tools.requests.map((r) => r.path)).toEqual(['/redirect']);
  });

  test('allowed hosts work; the credential goes as a header from TOOL_<NAME>_SECRET; a body over the cap is cut and marked truncated', async () => {
    const results = await inPython([
      { kind: 'http', url: `${tools.url}/lookup?q=ok`, allowed: '127.0.0.1', tool: { credentialId: 'cred-1' }, env: { TOOL_LOOKUP_SECRET: 'tool-secret-1' } },
      { kind: 'http', url: `${tools.url}/big`, allowed: '127.0.0.0/8', cap: 1024 },
      { kind: 'http', url: `${tools.url}/lookup?q=nokey`, allowed: '127.0.0.1', tool: { credentialId: 'cred-1' } },
    ]);
    expect(results[0]).toEqual({ result: { status: 200, body: { q: 'ok', answer: 'about ok' } } });
    expect(results[1].result).toEqual({ status: 200, body: 'x'.repeat(1024), truncated: true });
    expect(results[2]).toEqual({ code: 'CREDENTIAL_NOT_FOUND', error: 'tool lookup names a credential: set its secret in TOOL_LOOKUP_SECRET' });
    expect(tools.requests.map((r) => [r.path, r.authorization])).toEqual([
      ['/lookup', 'Bearer tool-secret-1'],
      ['/big', null],
    ]);
  });

  test('in a run, a refused call goes back to the model as the call\'s error, and the server sees nothing', async () => {
    const model = 'openai-refused';
    const exported = await inPackage({ provider: 'openai', model }, [{ toolCalls: [{ id: 'call_1', name: 'lookup', arguments: { q: 'tea' } }] }, {}], model, {});
    expect(exported.status).toBe('succeeded');
    expect(exported.requests).toEqual([]);
    const calls = (exported.agent as { toolCalls: { error?: string }[] }).toolCalls;
    expect(calls[0]!.error).toMatch(/^refused to connect to 127\.0\.0\.1: 127\.0\.0\.1 is a loopback address/);
    expect(JSON.parse(fake.callsFor(model)[1]!.toolResults[0]!.content).error).toBe(calls[0]!.error);
  });
});

/**
 * The conversation node (issue 11 item 5) in the package: the same canvas on the platform and in the exported
 * runner against the fake provider, participants on both protocols. The transcript, the output, the turn and
 * speaker-selection events, and what every model was sent must be equal.
 */
describe('the exported package holds a conversation as Tessera does', () => {
  const participants = [
    { name: 'Ann', provider: 'openai', model: 'conv-ann', system: 'You open on {{inputs.topic}}.' },
    { name: 'Bob', provider: 'anthropic', model: 'conv-bob' },
    { name: 'Cy', provider: 'openai', model: 'conv-cy', system: 'You are brief.' },
  ];
  const chat = (data: Record<string, unknown>) => ({
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
      { id: 'chat', type: 'conversation', position: { x: 200, y: 0 }, data: { participants, topic: 'Let us talk about {{inputs.topic}}', ...data } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.chat.text}} after {{nodes.chat.rounds}} turns' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'chat' },
      { id: 'e2', source: 'chat', target: 'out' },
    ] as CanvasEdge[],
  });
  const scriptAll = (scripts: Record<string, FakeLlmBehaviour[]>) => {
    for (const [model, behaviours] of Object.entries(scripts)) fake.script(model, ...behaviours);
  };
  const sent = (from: number) => fake.calls.slice(from).map((c) => `${c.api} ${c.model} system=${c.system ?? ''} prompt=${c.prompt}`);

  async function both(data: Record<string, unknown>, scripts: Record<string, FakeLlmBehaviour[]>) {
    scriptAll(scripts);
    const workflowId = await createWorkflow(stack, owner, chat(data), 'Export conversation');
    const executionId = await startRun(stack, owner, workflowId, { topic: 'tea' });
    const done = await waitForExecution(stack, owner, executionId);
    const events = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
    const platform = {
      status: done.status,
      outputs: done.outputs ?? {},
      chat: done.nodes.find((n: { nodeId: string }) => n.nodeId === 'chat')?.output ?? null,
      events: loopEvents(events.body.events, 'chat'),
      sent: sent(0),
    };
    const before = fake.calls.length;
    scriptAll(scripts);
    const python = await runInPython({
      plan: compileExportPlan(compileGraph(chat(data), { workflowId: 'wf-export-chat', workflowVersion: 1 })),
      inputs: { topic: 'tea' },
      argv: [],
      script: {},
      realProviders: true,
      details: true,
      env: { OPENAI_API_KEY: KEYS.openai, OPENAI_BASE_URL: fake.openaiBaseURL, ANTHROPIC_API_KEY: KEYS.anthropic, ANTHROPIC_BASE_URL: fake.anthropicBaseURL },
    });
    const exported = {
      status: python.status,
      outputs: python.outputs,
      chat: python.nodeOutputs?.chat ?? null,
      events: loopEvents(python.ledgerEvents ?? [], 'chat'),
      sent: sent(before),
    };
    expect(exported).toEqual(platform);
    return platform;
  }

  test('round robin: three participants on both protocols, terminateOn stops it early', async () => {
    const platform = await both({ maxRounds: 5, terminateOn: 'DONE' }, { 'conv-bob': [{ text: 'Agreed, we are DONE.' }] });
    expect(platform.status).toBe('succeeded');
    expect((platform.chat as { transcript: { speaker: string }[]; rounds: number }).transcript.map((t) => t.speaker)).toEqual(['Ann', 'Bob']);
    expect(platform.outputs).toEqual({ out: 'Agreed, we are DONE. after 2 turns' });
    expect(platform.sent).toHaveLength(2);
  });

  test('auto: the first participant\'s model picks the next speaker (by name, or the next in order when it names none)', async () => {
    const platform = await both(
      { maxRounds: 4, speakerSelection: 'auto' },
      { 'conv-ann': [{}, { text: 'Cy' }, { text: '"Bob."' }, { text: 'nobody' }] },
    );
    expect(platform.status).toBe('succeeded');
    const chatOutput = platform.chat as { transcript: { speaker: string }[]; rounds: number };
    // Ann opens; the model picks Cy, then Bob; naming nobody, the next after Bob speaks (Cy).
    expect(chatOutput.transcript.map((t) => t.speaker)).toEqual(['Ann', 'Cy', 'Bob', 'Cy']);
    expect(platform.events.filter((e) => e.startsWith('conversation.speaker_selected')).map((e) => /chosenBy="(\w+)"/.exec(e)![1])).toEqual(['model', 'model', 'fallback']);
  });
});
