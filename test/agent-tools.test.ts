// Agents that call tools (DESIGN.md §8), end to end: real Temporal, worker processes, the real openai and
// @anthropic-ai/sdk clients against the fake provider, and an http tool against a loopback test server
// (TOOL_ALLOWED_HOSTS=127.0.0.1). Every model call and every tool call is counted where it lands, so the
// tests can say each happened exactly once, also across SIGKILLed workers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { readableHistory } from './support/history-text';
import { startMcpTestServer } from './support/mcp-test-server';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startToolServer, type ToolServer } from './support/tool-server';
import { startTestStack, TEST_ENCRYPTION_KEY, type TestStack } from './support/stack';
import { killAllTessera, spawnTessera, stackEnv, writeWorkflowBundle, type TesseraProcess } from './support/processes';
import { waitUntil } from './support/wait-until';
import { temporalWorkflowId } from '../core/events';
import { tenantSchemaName } from '../db';

jest.setTimeout(240_000);

let stack: TestStack;
let fake: FakeLlmServer;
let tools: ToolServer;
let owner: TestSession;
let bundleDir: string;
let bundlePath: string;
let worker: TesseraProcess;

function spawnWorker(): TesseraProcess {
  return spawnTessera('worker', {
    ...stackEnv(stack, bundlePath),
    OPENAI_API_KEY: 'test-openai-key',
    OPENAI_BASE_URL: fake.openaiBaseURL,
    ANTHROPIC_API_KEY: 'test-anthropic-key',
    ANTHROPIC_BASE_URL: fake.anthropicBaseURL,
    TOOL_ALLOWED_HOSTS: '127.0.0.1',
    // The vault's key, as the test API encrypted credentials with it.
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  });
}

beforeAll(async () => {
  fake = await startFakeLlmServer();
  tools = await startToolServer();
  stack = await startTestStack({ worker: false, toolAllowedHosts: '127.0.0.1' });
  owner = await registerTenant(stack);
  bundleDir = mkdtempSync(path.join(tmpdir(), 'tessera-bundle-'));
  bundlePath = writeWorkflowBundle(stack.workflowBundle, path.join(bundleDir, 'workflow-bundle.js'));
  worker = spawnWorker();
  await worker.ready;
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  await fake?.close();
  await tools?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
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
  url: `${tools.url}/lookup?q={{args.q}}`,
  parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'], additionalProperties: false },
});

function agentGraph(agent: Record<string, unknown>) {
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
      { id: 'a', type: 'agent', position: { x: 200, y: 0 }, data: { prompt: 'Tell me about {{inputs.topic}}', tools: [lookupTool()], ...agent } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.a.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'a' },
      { id: 'e2', source: 'a', target: 'out' },
    ],
  };
}

async function runToEnd(agent: Record<string, unknown>, timeoutMs = 60_000): Promise<{ done: any; events: any[] }> {
  const workflowId = await createWorkflow(stack, owner, agentGraph(agent));
  const executionId = await startRun(stack, owner, workflowId, { topic: 'tea' });
  const done = await waitForExecution(stack, owner, executionId, undefined, timeoutMs);
  const events = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
  return { done, events: events.body.events };
}

const agentNode = (done: any) => done.nodes.find((n: any) => n.nodeId === 'a');
const toolResult = (q: string) => JSON.stringify({ status: 200, body: { q, answer: `about ${q}` } });

it('an http tool: the model asks for it, gets its result and answers with it; one request per call', async () => {
  fake.script('tools-one', { toolCalls: [{ name: 'lookup', arguments: { q: 'tea' } }], usage: { inputTokens: 10, outputTokens: 3 } }, { usage: { inputTokens: 20, outputTokens: 5 } });
  const { done, events } = await runToEnd({ provider: 'openai', model: 'tools-one' });

  expect(done.status).toBe('succeeded');
  expect(done.outputs).toEqual({ out: `fake:tools-one:tools:${toolResult('tea')}` });
  expect(tools.requests.map((r) => [r.path, r.q])).toEqual([['/lookup', 'tea']]);
  const calls = fake.callsFor('tools-one');
  expect(calls).toHaveLength(2);
  expect(calls[0]!.tools).toEqual(['lookup']);
  expect(calls[1]!.toolResults).toEqual([{ id: expect.any(String), content: toolResult('tea'), isError: false }]);

  const output = agentNode(done).output;
  expect(output).toMatchObject({
    text: `fake:tools-one:tools:${toolResult('tea')}`,
    rounds: 2,
    provider: 'openai',
    usage: { inputTokens: 30, outputTokens: 8, totalTokens: 38 },
    toolCalls: [{ id: expect.any(String), name: 'lookup', arguments: { q: 'tea' }, result: { status: 200, body: { q: 'tea', answer: 'about tea' } } }],
  });
  const toolEvents = events.filter((e) => e.type.startsWith('tool_call.'));
  expect(toolEvents.map((e) => [e.type, e.data.round, e.data.tool, e.data.callStatus])).toEqual([
    ['tool_call.started', 1, 'lookup', 'running'],
    ['tool_call.succeeded', 1, 'lookup', 'succeeded'],
  ]);
  expect(toolEvents[0].data.arguments).toEqual({ q: 'tea' });
  expect(toolEvents[1].data.durationMs).toEqual(expect.any(Number));
  expect(events.filter((e) => e.type === 'model_call.succeeded').map((e) => e.data.round)).toEqual([1, 2]);
  // The run's transcript, for the issue's closing note: each round's model call and tool calls.
  console.log(
    events
      .filter((e) => e.type === 'model_call.succeeded' || e.type.startsWith('tool_call.'))
      .map((e) => `${e.type} round ${e.data.round}${e.data.tool ? ` ${e.data.tool}(${JSON.stringify(e.data.arguments)})` : ` asked for [${e.data.toolCalls.join(', ')}], ${e.data.usage.totalTokens} tokens`}${e.data.durationMs !== undefined ? ` ${e.data.durationMs} ms` : ''}`)
      .join('\n'),
  );
});

it("a tool's credential reaches the server as a header and is nowhere in events, rows, logs or the run's history", async () => {
  const SECRET = 'tool-secret-4b1d-never-in-plaintext';
  const cred = await stack.request('POST', '/api/v1/credentials', { token: owner.token, body: { provider: 'openai', name: 'Lookup API', secret: SECRET } });
  expect(cred.status).toBe(201);
  fake.script('tools-credential', { toolCalls: [{ name: 'lookup', arguments: { q: 'tea' } }] }, {});
  const workflowId = await createWorkflow(stack, owner, agentGraph({ provider: 'openai', model: 'tools-credential', tools: [{ ...lookupTool(), credentialId: cred.body.id }] }));
  const executionId = await startRun(stack, owner, workflowId, { topic: 'tea' });
  const done = await waitForExecution(stack, owner, executionId);

  expect(done.status).toBe('succeeded');
  expect(agentNode(done).output.toolCalls[0]).not.toHaveProperty('error');
  expect(tools.requests.map((r) => r.authorization)).toEqual([`Bearer ${SECRET}`]);
  const schema = tenantSchemaName(owner.tenantId);
  const rows: { row: string }[] = await stack.db.dataSource.query(
    `select row_to_json(e)::text as row from ${schema}.execution_events e union all select row_to_json(n)::text from ${schema}.node_executions n union all select row_to_json(x)::text from ${schema}.executions x`,
  );
  expect(rows.map((r) => r.row).join('\n')).toContain('tool_call.succeeded');
  expect(rows.map((r) => r.row).join('\n')).not.toContain(SECRET);
  expect(worker.output()).not.toContain(SECRET);
  const history = await stack.temporal.workflow.getHandle(temporalWorkflowId(owner.tenantId, executionId)).fetchHistory();
  // Temporal holds the payloads encrypted: they are searched decrypted.
  const historyText = await readableHistory(stack.payloadCodec, history);
  expect(historyText).toContain(cred.body.id);
  expect(historyText).not.toContain(SECRET);
});

it("an OpenAI-compatible server from the credential's base URL gets the tool calls (Ollama, vLLM, a gateway)", async () => {
  const compatible = await startFakeLlmServer();
  try {
    const cred = await stack.request('POST', '/api/v1/credentials', {
      token: owner.token,
      body: { provider: 'openai', name: 'Local vLLM', secret: 'compatible-key', baseUrl: compatible.openaiBaseURL },
    });
    expect(cred.status).toBe(201);
    compatible.script('llama-tools', { toolCalls: [{ name: 'lookup', arguments: { q: 'rooibos' } }] }, {});
    const { done } = await runToEnd({ provider: 'openai', model: 'llama-tools', credentialId: cred.body.id });

    expect(done.status).toBe('succeeded');
    expect(compatible.calls.map((c) => [c.model, c.apiKey, c.tools])).toEqual([
      ['llama-tools', 'compatible-key', ['lookup']],
      ['llama-tools', 'compatible-key', ['lookup']],
    ]);
    expect(compatible.calls[1]!.toolResults.map((r) => r.content)).toEqual([toolResult('rooibos')]);
    expect(fake.calls).toHaveLength(0);
    expect(done.outputs.out).toBe(`fake:llama-tools:tools:${toolResult('rooibos')}`);
  } finally {
    await compatible.close();
  }
});

it('tool calls asked for at once run in parallel', async () => {
  tools.holdUntil(2); // neither is answered until both are in flight
  fake.script('tools-parallel', { toolCalls: [{ name: 'lookup', arguments: { q: 'green' } }, { name: 'lookup', arguments: { q: 'black' } }] }, {});
  const { done } = await runToEnd({ provider: 'openai', model: 'tools-parallel' });

  expect(done.status).toBe('succeeded');
  const [first, second] = tools.requests;
  expect(tools.requests).toHaveLength(2);
  // Both requests were open at the same time: each arrived before the other was answered.
  expect(Math.max(first!.startedAt, second!.startedAt)).toBeLessThanOrEqual(Math.min(first!.endedAt!, second!.endedAt!));
  expect(done.outputs.out).toBe(`fake:tools-parallel:tools:${toolResult('green')} | ${toolResult('black')}`);
  expect(agentNode(done).output.toolCalls.map((c: any) => c.arguments.q)).toEqual(['green', 'black']);
});

it('arguments that do not fit the schema go back to the model as an error, and the run still succeeds', async () => {
  fake.script(
    'tools-bad-args',
    { toolCalls: [{ name: 'lookup', arguments: { word: 'tea' } }] },
    { toolCalls: [{ name: 'lookup', arguments: { q: 'tea' } }] },
    {},
  );
  const { done, events } = await runToEnd({ provider: 'openai', model: 'tools-bad-args' });

  expect(done.status).toBe('succeeded');
  // The bad call never reached the tool.
  expect(tools.requests.map((r) => r.q)).toEqual(['tea']);
  const told = fake.callsFor('tools-bad-args')[1]!.toolResults;
  expect(told).toHaveLength(1);
  expect(JSON.parse(told[0]!.content).error).toMatch(/invalid arguments: .*required property 'q'/);
  expect(agentNode(done).output.toolCalls[0]).toMatchObject({ name: 'lookup', arguments: { word: 'tea' }, error: expect.stringContaining("required property 'q'") });
  expect(agentNode(done).output.rounds).toBe(3);
  expect(events.filter((e) => e.type === 'tool_call.failed').map((e) => e.data.round)).toEqual([1]);
});

it('a model that keeps asking for tools past maxToolRounds fails the node with TOOL_ROUNDS_EXCEEDED', async () => {
  fake.script('tools-forever', { toolCalls: [{ name: 'lookup', arguments: { q: 'one' } }] }, { toolCalls: [{ name: 'lookup', arguments: { q: 'two' } }] });
  const { done } = await runToEnd({ provider: 'openai', model: 'tools-forever', maxToolRounds: 1 });

  expect(done.status).toBe('failed');
  const node = agentNode(done);
  expect(node.status).toBe('failed');
  expect(node.error).toMatchObject({ code: 'TOOL_ROUNDS_EXCEEDED', message: expect.stringContaining('maxToolRounds') });
  expect(tools.requests.map((r) => r.q)).toEqual(['one']);
  expect(fake.callsFor('tools-forever')).toHaveLength(2);
});

it('the Anthropic protocol: tool_use, parallel tool_use and tool_result blocks', async () => {
  tools.holdUntil(2);
  fake.script('claude-tools', { text: 'Let me look both up.', toolCalls: [{ name: 'lookup', arguments: { q: 'oolong' } }, { name: 'lookup', arguments: { q: 'sencha' } }] }, {});
  const { done } = await runToEnd({ provider: 'anthropic', model: 'claude-tools' });

  expect(done.status).toBe('succeeded');
  expect(tools.requests).toHaveLength(2);
  const calls = fake.callsFor('claude-tools');
  expect(calls.map((c) => c.api)).toEqual(['anthropic', 'anthropic']);
  expect(calls[1]!.toolResults.map((r) => r.content)).toEqual([toolResult('oolong'), toolResult('sencha')]);
  // The assistant's turn is replayed as it was: its text and both tool_use blocks.
  const replayed = (calls[1]!.body.messages as any[])[1];
  expect(replayed.role).toBe('assistant');
  expect(replayed.content.map((b: any) => b.type)).toEqual(['text', 'tool_use', 'tool_use']);
  expect(done.outputs.out).toBe(`fake:claude-tools:tools:${toolResult('oolong')} | ${toolResult('sencha')}`);
  expect(agentNode(done).output).toMatchObject({ provider: 'anthropic', rounds: 2 });
});

it("MCP tools: the model is offered the server's tools, arguments are checked against their schema, the loop calls one", async () => {
  const mcp = await startMcpTestServer();
  try {
    const created = await stack.request('POST', '/api/v1/mcp-servers', { token: owner.token, body: { name: 'Test tools', url: mcp.url } });
    expect(created.status).toBe(201);
    fake.script('tools-mcp', { toolCalls: [{ name: 'add', arguments: { a: 'two', b: 3 } }] }, { toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }] }, {});
    const { done } = await runToEnd({ provider: 'openai', model: 'tools-mcp', tools: [lookupTool(), { type: 'mcp', serverId: created.body.id, tools: ['add'] }] });

    expect(done.status).toBe('succeeded');
    // The named tool and the one MCP tool the agent picked (not `shout`).
    expect(fake.callsFor('tools-mcp')[0]!.tools).toEqual(['lookup', 'add']);
    expect(mcp.calls).toEqual([{ tool: 'add', args: { a: 2, b: 3 } }]);
    const calls = agentNode(done).output.toolCalls;
    expect(calls[0]).toMatchObject({ name: 'add', error: expect.stringContaining('/a must be number') });
    expect(calls[1]).toMatchObject({ name: 'add', arguments: { a: 2, b: 3 }, result: { sum: 5 } });
    expect(tools.requests).toHaveLength(0);
  } finally {
    await mcp.close();
  }
});

it('toolApproval: calls wait in the inbox with the tool and its arguments; approve runs one, reject tells the model; across a worker kill', async () => {
  fake.script('tools-approve', { toolCalls: [{ name: 'lookup', arguments: { q: 'yes' } }, { name: 'lookup', arguments: { q: 'no' } }] }, {});
  const workflowId = await createWorkflow(stack, owner, agentGraph({ provider: 'openai', model: 'tools-approve', toolApproval: ['lookup'] }));
  const executionId = await startRun(stack, owner, workflowId, { topic: 'tea' });

  const pending = await waitUntil('both calls wait in the inbox', async () => {
    const inbox = await stack.request('GET', `/api/v1/approvals?status=pending&executionId=${executionId}`, { token: owner.token });
    return inbox.body.items?.length === 2 ? (inbox.body.items as any[]) : null;
  });
  const byQuery = (q: string) => pending.find((a) => a.instructions.includes(`Arguments: {"q":"${q}"}`));
  expect(byQuery('yes')).toMatchObject({ title: 'Agent a asks to call lookup', status: 'pending', canDecide: true });
  expect(byQuery('no')).toBeDefined();
  expect((await waitForExecution(stack, owner, executionId, (e) => e.status === 'waiting')).status).toBe('waiting');
  expect(tools.requests).toHaveLength(0);

  // The waits are in the run's history: a new worker picks them up.
  await worker.kill('SIGKILL');
  worker = spawnWorker();
  await worker.ready;
  const decide = (key: string, body: Record<string, unknown>) =>
    stack.request('POST', `/api/v1/executions/${executionId}/approvals/${encodeURIComponent(key)}`, { token: owner.token, body });
  expect((await decide(byQuery('yes').nodeId, { decision: 'approve' })).status).toBe(200);
  expect((await decide(byQuery('no').nodeId, { decision: 'reject', comment: 'not that one' })).status).toBe(200);

  const done = await waitForExecution(stack, owner, executionId, undefined, 90_000);
  expect(done.status).toBe('succeeded');
  expect(tools.requests.map((r) => r.q)).toEqual(['yes']);
  const calls = fake.callsFor('tools-approve');
  expect(calls).toHaveLength(2);
  expect(calls[1]!.toolResults.map((r) => r.content)).toEqual([toolResult('yes'), JSON.stringify({ error: 'a person rejected this call: not that one' })]);
  expect(agentNode(done).output.toolCalls.map((c: any) => c.error ?? c.result.status)).toEqual([200, 'a person rejected this call: not that one']);
});

it('SIGKILL during a tool call and between a tool call and the next model call: each completed call happened once', async () => {
  // Round 1's tool call is never answered on the first worker; round 3's model call is never answered on the second.
  tools.holdFirst('first');
  fake.script(
    'tools-durable',
    { toolCalls: [{ name: 'lookup', arguments: { q: 'first' } }] },
    { toolCalls: [{ name: 'lookup', arguments: { q: 'second' } }] },
    { delayMs: 60 * 60_000 },
    {},
  );
  const workflowId = await createWorkflow(stack, owner, agentGraph({ provider: 'openai', model: 'tools-durable' }));
  const executionId = await startRun(stack, owner, workflowId, { topic: 'tea' });

  await waitUntil('the first worker is in the middle of the tool call', () => tools.requests.length === 1);
  await worker.kill('SIGKILL');
  worker = spawnWorker();
  await worker.ready;

  // After the second tool call, the third model call hangs: the second worker dies between them.
  await waitUntil('the second worker has called the model after the second tool call', () => fake.callsFor('tools-durable').length === 3, { timeoutMs: 90_000 });
  await worker.kill('SIGKILL');
  worker = spawnWorker();
  await worker.ready;

  const done = await waitForExecution(stack, owner, executionId, undefined, 120_000);
  expect(done.status).toBe('succeeded');
  const calls = fake.callsFor('tools-durable');
  // Model calls 1 and 2 completed once each; call 3 was cut off by the kill and made again.
  expect(calls.map((c) => c.aborted)).toEqual([false, false, true, false]);
  expect(calls.map((c) => c.toolResults.map((r) => r.content))).toEqual([[], [toolResult('first')], [toolResult('second')], [toolResult('second')]]);
  // Tool call 1 was cut off and made again by the new worker; tool call 2 completed once and was not repeated.
  expect(tools.requests.map((r) => [r.q, r.aborted])).toEqual([
    ['first', true],
    ['first', false],
    ['second', false],
  ]);
  console.log(`kill test: model calls made ${calls.length} (completed ${calls.filter((c) => !c.aborted).length}), tool requests ${tools.requests.length} (completed ${tools.requests.filter((r) => !r.aborted).length})`);
  expect(tools.answered('first')).toHaveLength(1);
  expect(tools.answered('second')).toHaveLength(1);
  expect(agentNode(done).output.rounds).toBe(3);
  expect(done.outputs.out).toBe(`fake:tools-durable:tools:${toolResult('second')}`);
});
