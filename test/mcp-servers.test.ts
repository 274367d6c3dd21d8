// Tenant-registered MCP servers against a real MCP server built with the SDK (test/support/mcp-test-server.ts)
// on loopback: registering it, the editor's tool list coming from it, the loop's runMcpTool calling one of its
// tools with the credential as bearer token, other tenants seeing nothing, bad input answered with a 4xx.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseAllowedHosts } from '../core/address-policy';
import { DEFAULT_TOOL_OUTBOUND } from '../core/config';
import { TenantScope } from '../db';
import { createToolRunners, ToolError, type ToolRunners } from '../activities/tools';
import { startMcpTestServer, type McpTestServer } from './support/mcp-test-server';
import { registerTenant, type TestSession } from './support/session';
import { startTestStack, TEST_ENCRYPTION_KEY, type TestStack } from './support/stack';

const SECRET = 'mcp-bearer-7c2e';
const TOOL_SETTINGS = { allowedHosts: parseAllowedHosts('127.0.0.1'), timeoutMs: 5_000, responseMaxBytes: 64 * 1024, mcpResponseMaxBytes: 1024 * 1024 };

let stack: TestStack;
let mcp: McpTestServer;
let owner: TestSession;
let stranger: TestSession;
let runners: ToolRunners;
let serverId: string;

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  stack = await startTestStack({ worker: false, toolAllowedHosts: '127.0.0.1' });
  mcp = await startMcpTestServer();
  owner = await registerTenant(stack);
  stranger = await registerTenant(stack);
  runners = createToolRunners({ scope: new TenantScope(stack.db.dataSource), encryptionKey: TEST_ENCRYPTION_KEY, settings: TOOL_SETTINGS });
});

afterAll(async () => {
  await runners?.close();
  await mcp?.close();
  await stack?.close();
});

it('registers an MCP server with a credential and lists it', async () => {
  const cred = await stack.request('POST', '/api/v1/credentials', { token: owner.token, body: { provider: 'openai', name: 'MCP token', secret: SECRET } });
  expect(cred.status).toBe(201);
  const created = await stack.request('POST', '/api/v1/mcp-servers', { token: owner.token, body: { name: 'Test tools', url: mcp.url, credentialId: cred.body.id } });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ name: 'Test tools', url: mcp.url, credentialId: cred.body.id });
  expect(JSON.stringify(created.body)).not.toContain(SECRET);
  serverId = created.body.id;

  const list = await stack.request('GET', '/api/v1/mcp-servers', { token: owner.token });
  expect(list.status).toBe(200);
  expect(list.body.mcpServers.map((s: { id: string }) => s.id)).toEqual([serverId]);

  const audit = await stack.request('GET', '/api/v1/tenant/audit-log?action=mcp_server', { token: owner.token });
  expect(audit.body.entries.map((e: { action: string }) => e.action)).toContain('mcp_server.create');
});

it("lists the server's tools as the server itself offers them, sending the credential as a bearer token", async () => {
  const before = mcp.authorizations.length;
  const res = await stack.request('GET', `/api/v1/mcp-servers/${serverId}/tools`, { token: owner.token });
  expect(res.status).toBe(200);
  expect(res.body.tools.map((t: { name: string }) => t.name).sort()).toEqual(['add', 'shout']);
  const add = res.body.tools.find((t: { name: string }) => t.name === 'add');
  expect(add).toMatchObject({ title: 'Add', description: 'Adds two numbers', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } });
  const sent = mcp.authorizations.slice(before);
  expect(sent.length).toBeGreaterThan(0);
  expect(sent.every((a) => a === `Bearer ${SECRET}`)).toBe(true);
});

it('runMcpTool calls one tool of the server and answers its result', async () => {
  const calls = mcp.calls.length;
  await expect(runners.runMcpTool({ tenantId: owner.tenantId, serverId, toolName: 'add', args: { a: 2, b: 3 } })).resolves.toEqual({ sum: 5 });
  await expect(runners.runMcpTool({ tenantId: owner.tenantId, serverId, toolName: 'shout', args: { text: 'hi' } })).resolves.toBe('HI');
  expect(mcp.calls.slice(calls)).toEqual([
    { tool: 'add', args: { a: 2, b: 3 } },
    { tool: 'shout', args: { text: 'hi' } },
  ]);
});

it('goes through the address policy: with nothing allowed, the loopback server is refused and nothing reaches it', async () => {
  const strict = createToolRunners({ scope: new TenantScope(stack.db.dataSource), encryptionKey: TEST_ENCRYPTION_KEY, settings: DEFAULT_TOOL_OUTBOUND });
  const requests = mcp.authorizations.length;
  const err = await strict.runMcpTool({ tenantId: owner.tenantId, serverId, toolName: 'add', args: { a: 1, b: 1 } }).catch((e: unknown) => e);
  await strict.close();
  expect(err).toBeInstanceOf(ToolError);
  expect((err as ToolError).code).toBe('OUTBOUND_REFUSED');
  expect((err as ToolError).message).toContain('loopback');
  expect(mcp.authorizations.length).toBe(requests);
});

it("another tenant's runMcpTool does not find the server, and nothing reaches it", async () => {
  const requests = mcp.authorizations.length;
  const err = await runners.runMcpTool({ tenantId: stranger.tenantId, serverId, toolName: 'add', args: { a: 1, b: 1 } }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ToolError);
  expect((err as ToolError).code).toBe('MCP_SERVER_NOT_FOUND');
  expect(mcp.authorizations.length).toBe(requests);
});

it('another tenant gets 404 for the server on GET tools and DELETE, and does not see it listed', async () => {
  expect((await stack.request('GET', `/api/v1/mcp-servers/${serverId}/tools`, { token: stranger.token })).status).toBe(404);
  expect((await stack.request('DELETE', `/api/v1/mcp-servers/${serverId}`, { token: stranger.token })).status).toBe(404);
  const list = await stack.request('GET', '/api/v1/mcp-servers', { token: stranger.token });
  expect(list.body.mcpServers).toEqual([]);
  // Still there for its own tenant.
  expect((await stack.request('GET', `/api/v1/mcp-servers/${serverId}/tools`, { token: owner.token })).status).toBe(200);
});

it('answers bad input with a 4xx error body', async () => {
  const post = (body: unknown) => stack.request('POST', '/api/v1/mcp-servers', { token: owner.token, body });
  const cases: [unknown, number, string][] = [
    [{ url: mcp.url }, 400, 'VALIDATION_FAILED'],
    [{ name: 'x', url: 'ftp://127.0.0.1/mcp' }, 400, 'VALIDATION_FAILED'],
    [{ name: 'x', url: 'not a url' }, 400, 'VALIDATION_FAILED'],
    [{ name: 'x', url: mcp.url, credentialId: 'not-a-uuid' }, 400, 'VALIDATION_FAILED'],
    [{ name: 'x', url: mcp.url, credentialId: '00000000-0000-4000-8000-000000000000' }, 400, 'VALIDATION_FAILED'],
    [{ name: 'x', url: mcp.url, extra: true }, 400, 'VALIDATION_FAILED'],
    [{ name: 'Test tools', url: mcp.url }, 409, 'CONFLICT'],
    // A literal address the policy refuses is refused at once (no request is made at registration).
    [{ name: 'x', url: 'http://10.0.0.1/mcp' }, 422, 'OUTBOUND_REFUSED'],
    [{ name: 'x', url: 'http://[::1]:1/mcp' }, 422, 'OUTBOUND_REFUSED'],
  ];
  for (const [body, status, code] of cases) {
    const res = await post(body);
    expect({ body, status: res.status, code: res.body?.error?.code }).toEqual({ body, status, code });
    expect(typeof res.body.error.message).toBe('string');
  }
  expect((await stack.request('GET', '/api/v1/mcp-servers/not-a-uuid/tools', { token: owner.token })).status).toBe(404);
  expect((await stack.request('DELETE', '/api/v1/mcp-servers/00000000-0000-4000-8000-000000000000', { token: owner.token })).status).toBe(404);
});

it('answers 502 MCP_UNREACHABLE, with a readable message, when the server cannot be reached', async () => {
  const port = await closedPort();
  const created = await stack.request('POST', '/api/v1/mcp-servers', { token: owner.token, body: { name: 'Gone', url: `http://127.0.0.1:${port}/mcp` } });
  expect(created.status).toBe(201);
  const res = await stack.request('GET', `/api/v1/mcp-servers/${created.body.id}/tools`, { token: owner.token });
  expect(res.status).toBe(502);
  expect(res.body.error.code).toBe('MCP_UNREACHABLE');
  expect(res.body.error.message).toContain(`127.0.0.1:${port}`);
  expect(res.body.error.message).toMatch(/ECONNREFUSED/);
});

it('deletes the server: it is gone from the list and its tools are a 404', async () => {
  expect((await stack.request('DELETE', `/api/v1/mcp-servers/${serverId}`, { token: owner.token })).status).toBe(204);
  expect((await stack.request('GET', `/api/v1/mcp-servers/${serverId}/tools`, { token: owner.token })).status).toBe(404);
  const list = await stack.request('GET', '/api/v1/mcp-servers', { token: owner.token });
  expect(list.body.mcpServers.map((s: { id: string }) => s.id)).not.toContain(serverId);
});
