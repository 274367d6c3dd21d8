// Tessera as an MCP server, as an MCP client sees it: the SDK's own Client over Streamable HTTP against POST
// /mcp of a real stack. The tenant's workflows are its tools, a call runs one and answers with its outputs
// (or its execution id when it waits on a human, or its error), and another tenant's key sees nothing of it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { reviewGraph } from './fixtures/approval-graphs';
import { singleAgentGraph } from './fixtures/graphs';
import { createWorkflow, registerTenant, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;
let acme: TestSession;
let globex: TestSession;
let acmeKey: string;
let globexKey: string;
const clients: Client[] = [];

async function apiKey(session: TestSession, role = 'editor'): Promise<string> {
  const res = await stack.request('POST', '/api/v1/api-keys', { token: session.token, body: { name: `mcp ${role}`, role } });
  if (res.status !== 201) throw new Error(`api key: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.key;
}

async function connect(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'tessera-mcp-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${stack.baseUrl}/mcp`), { requestInit: { headers } });
  clients.push(client);
  await client.connect(transport);
  return client;
}

/** A workflow whose only step fails: a JSONata expression that raises. */
const failingGraph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: {} } },
    { id: 'boom', type: 'transform', position: { x: 200, y: 0 }, data: { expression: '$error("the sky fell")' } },
    { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.boom}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'boom' },
    { id: 'e2', source: 'boom', target: 'out' },
  ],
};

const topicGraph = () => {
  const graph = singleAgentGraph({ provider: 'echo', model: 'echo-1' });
  const trigger = { ...graph.nodes[0]!, data: { inputs: { topic: { type: 'string', required: true, description: 'what to write about' } } } };
  return { ...graph, nodes: [trigger, ...graph.nodes.slice(1)] };
};

beforeAll(async () => {
  stack = await startTestStack();
  acme = await registerTenant(stack, 'Acme MCP');
  globex = await registerTenant(stack, 'Globex MCP');
  await createWorkflow(stack, acme, topicGraph(), 'Write a Haiku!');
  await createWorkflow(stack, acme, reviewGraph(), 'Review draft');
  await createWorkflow(stack, acme, failingGraph, 'Always fails');
  await createWorkflow(stack, acme, topicGraph(), 'write a haiku');
  await createWorkflow(stack, globex, singleAgentGraph({ provider: 'echo', model: 'echo-1' }), 'Globex report');
  acmeKey = await apiKey(acme);
  globexKey = await apiKey(globex);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await stack?.close();
});

describe('POST /mcp', () => {
  test("lists the tenant's workflows as tools, named from the workflow, taking the trigger inputs", async () => {
    const client = await connect({ 'X-API-Key': acmeKey });
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toHaveLength(4);
    expect(names).toEqual(expect.arrayContaining(['always_fails', 'review_draft', 'write_a_haiku']));
    // Two workflows slug alike: the older keeps the bare name, the newer gets a suffix of its id.
    expect(names.filter((n) => /^write_a_haiku_[0-9a-f]{8}$/.test(n))).toHaveLength(1);
    const haiku = tools.find((t) => t.name === 'write_a_haiku')!;
    expect(haiku.title).toBe('Write a Haiku!');
    expect(haiku.inputSchema).toEqual({
      type: 'object',
      properties: { topic: { type: 'string', description: 'what to write about' } },
      required: ['topic'],
      additionalProperties: false,
    });
    expect(tools.find((t) => t.name === 'review_draft')!.inputSchema.properties).toEqual({ topic: { type: 'string', default: 'bees' } });
  });

  test('calling a tool runs the workflow as an execution triggered by mcp and returns its outputs', async () => {
    const client = await connect({ 'X-API-Key': acmeKey });
    const result = await client.callTool({ name: 'write_a_haiku', arguments: { topic: 'otters' } });
    expect(result.isError).toBeFalsy();
    const structured = result.structuredContent as { executionId: string; status: string; outputs: Record<string, unknown> };
    expect(structured).toMatchObject({ status: 'succeeded', outputs: { out: 'Tell me about otters' } });
    expect(JSON.parse((result.content as { type: string; text: string }[])[0]!.text)).toEqual({ out: 'Tell me about otters' });
    const execution = await stack.request('GET', `/api/v1/executions/${structured.executionId}`, { token: acme.token });
    expect(execution.body).toMatchObject({ status: 'succeeded', trigger: { type: 'mcp' }, inputs: { topic: 'otters' } });
    expect(execution.body.startedBy).toMatch(/^api_key:/);
  });

  test('a run waiting on a human approval answers with its execution id and says so', async () => {
    const client = await connect({ authorization: `Bearer ${acme.token}` });
    const result = await client.callTool({ name: 'review_draft', arguments: {} });
    expect(result.isError).toBeFalsy();
    const structured = result.structuredContent as { executionId: string; status: string };
    expect(structured.status).toBe('waiting');
    const text = (result.content as { text: string }[])[0]!.text;
    expect(text).toContain('waiting for a human decision');
    expect(text).toContain(structured.executionId);
    const inbox = await stack.request('GET', '/api/v1/approvals', { token: acme.token });
    expect(inbox.body.items.map((a: { executionId: string }) => a.executionId)).toContain(structured.executionId);
  });

  test('a failed run is an error result with its message; bad arguments are refused before any run', async () => {
    const client = await connect({ 'X-API-Key': acmeKey });
    const failed = await client.callTool({ name: 'always_fails', arguments: {} });
    expect(failed.isError).toBe(true);
    expect((failed.content as { text: string }[])[0]!.text).toMatch(/ended failed: .*the sky fell/);

    const refused = await client.callTool({ name: 'write_a_haiku', arguments: { mood: 'grim' } });
    expect(refused.isError).toBe(true);
    expect((refused.content as { text: string }[])[0]!.text).toMatch(/not started.*INPUTS_INVALID/s);
  });

  test("another tenant's key sees only its own tools and cannot call the first tenant's", async () => {
    const runsOfAcme = async () => (await stack.request('GET', '/api/v1/executions?limit=200', { token: acme.token })).body.items.length as number;
    const before = await runsOfAcme();
    const client = await connect({ 'X-API-Key': globexKey });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['globex_report']);
    await expect(client.callTool({ name: 'write_a_haiku', arguments: { topic: 'spies' } })).rejects.toThrow(/unknown tool "write_a_haiku"/);
    expect(await runsOfAcme()).toBe(before);
  });

  test('a viewer key lists the tools but may not run them', async () => {
    const client = await connect({ 'X-API-Key': await apiKey(acme, 'viewer') });
    expect((await client.listTools()).tools).toHaveLength(4);
    const result = await client.callTool({ name: 'write_a_haiku', arguments: { topic: 'x' } });
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]!.text).toContain('editor role');
  });

  test('no key or a bad key is refused with 401', async () => {
    await expect(connect({})).rejects.toMatchObject({ code: 401 });
    await expect(connect({ 'X-API-Key': 'tsk_not-a-key' })).rejects.toMatchObject({ code: 401 });
    const raw = await stack.request('POST', '/mcp', { body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
    expect(raw.status).toBe(401);
    expect(raw.body.error.code).toBe('UNAUTHORIZED');
    expect(raw.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
  });

  test('a body that is not JSON, or not a JSON-RPC message, is refused with 4xx and says why', async () => {
    const headers = { 'X-API-Key': acmeKey, accept: 'application/json, text/event-stream' };
    const broken = await stack.request('POST', '/mcp', { headers: { ...headers, 'content-type': 'application/json' }, body: '{"jsonrpc": ' });
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toEqual(expect.any(String));
    const notRpc = await stack.request('POST', '/mcp', { headers, body: { hello: 'world' } });
    expect(notRpc.status).toBe(400);
    expect(notRpc.body.error).toMatchObject({ code: expect.any(Number), message: expect.any(String) });
  });

  test('GET /mcp is refused with 405: the endpoint keeps no sessions to stream to', async () => {
    const res = await stack.request('GET', '/mcp', { headers: { 'X-API-Key': acmeKey } });
    expect(res.status).toBe(405);
  });
});

test('the run the MCP call started is an ordinary execution: it shows in the list with its trigger', async () => {
  const client = await connect({ 'X-API-Key': acmeKey });
  const result = await client.callTool({ name: 'write_a_haiku', arguments: { topic: 'tea' } });
  const { executionId } = result.structuredContent as { executionId: string };
  const done = await waitForExecution(stack, acme, executionId);
  expect(done.status).toBe('succeeded');
  const list = await stack.request('GET', '/api/v1/executions?limit=200', { token: acme.token });
  expect(list.body.items.find((e: { id: string }) => e.id === executionId)).toMatchObject({ trigger: { type: 'mcp' } });
});

test('runs started over REST record their trigger too: manual for a signed-in user, api for an API key', async () => {
  const workflows = await stack.request('GET', '/api/v1/workflows?limit=100', { token: acme.token });
  const id = workflows.body.items.find((w: { name: string }) => w.name === 'Write a Haiku!').id as string;
  const byUser = await stack.request('POST', `/api/v1/workflows/${id}/executions`, { token: acme.token, body: { inputs: { topic: 'a' } } });
  const byKey = await stack.request('POST', `/api/v1/workflows/${id}/executions`, { headers: { 'X-API-Key': acmeKey }, body: { inputs: { topic: 'b' } } });
  expect([byUser.status, byKey.status]).toEqual([202, 202]);
  expect(byUser.body.execution.trigger).toEqual({ type: 'manual' });
  expect(byKey.body.execution.trigger).toEqual({ type: 'api' });
});
