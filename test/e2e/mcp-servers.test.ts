// MCP servers in Debian's Chromium against the real stack (issue 11): an owner registers the test MCP server
// (built with the SDK, on loopback) in Settings · MCP servers, asks it for its tools, adds it to an agent node
// in the editor and ticks one of the tools the list offers, adds an http tool (its parameters schema checked as
// typed) and a workflow tool, saves, and deletes a second server. The page passes
// axe-core. Screenshots go to test-artifacts/e2e-mcp-servers/.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { singleAgentGraph } from '../fixtures/graphs';
import { startMcpTestServer, type McpTestServer } from '../support/mcp-test-server';
import { createWorkflow, type TestSession } from '../support/session';
import { startTestStack, type TestStack } from '../support/stack';
import { expectAccessible } from './accessibility';
import { launchChromium } from './chromium';
import { SettingsPage } from './pages/SettingsPage';
import { ensureWebBuilt } from './web-build';

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e-mcp-servers');
const PASSWORD = 'correct horse battery';

jest.setTimeout(180_000);

let stack: TestStack;
let mcp: McpTestServer;
let browser: Browser;
let owner: SettingsPage;
let session: TestSession;
let workflowOfAgent = '';

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  const webDir = ensureWebBuilt();
  mcp = await startMcpTestServer();
  stack = await startTestStack({ webDir, worker: false, toolAllowedHosts: '127.0.0.1' });
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  owner = new SettingsPage(await context.newPage(), stack.baseUrl, path.join(ARTIFACTS, 'owner'));
  const email = `mcp-${randomBytes(4).toString('hex')}@example.com`;
  await owner.register(`MCP ${randomBytes(3).toString('hex')}`, email, PASSWORD);
  const login = await stack.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
  session = { token: login.body.accessToken, tenantId: login.body.tenant.id, userId: login.body.user.id, email };
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await mcp?.close();
});

describe('MCP servers in the browser', () => {
  test('registering a server and asking it for its tools', async () => {
    await owner.byTestId('nav-settings').click();
    await owner.byTestId('settings-nav-mcp-servers').click();
    await owner.byTestId('mcp-servers-page').waitFor();
    expect(await owner.page.title()).toBe('Settings · MCP servers — Tessera');
    await owner.page.getByText('No MCP servers yet.').waitFor();

    for (const name of ['Test tools', 'Spare']) {
      await owner.byTestId('mcp-server-name').fill(name);
      await owner.byTestId('mcp-server-url').fill(mcp.url);
      await owner.byTestId('mcp-server-create').click();
      await owner.byTestId('mcp-servers-notice').getByText(`Registered “${name}”`).waitFor();
    }
    const row = owner.byTestId('mcp-server-row-Test tools');
    await row.getByText(mcp.url).waitFor();
    await row.getByTestId('mcp-server-show-tools').click();
    const tools = owner.byTestId('mcp-server-tools');
    await tools.getByTestId('mcp-tool-add').getByText('Adds two numbers').waitFor();
    await tools.getByTestId('mcp-tool-shout').waitFor();
    await owner.screenshot('tools-listed');
    await expectAccessible(owner.page, 'Settings · MCP servers');

    await owner.confirmIn(owner.byTestId('mcp-server-row-Spare'), 'mcp-server-delete');
    await owner.byTestId('mcp-server-row-Spare').waitFor({ state: 'detached' });
    await owner.byTestId('mcp-servers-notice').getByText('Deleted “Spare”').waitFor();
  });

  test("an agent node gets the server's tools, picked from its list", async () => {
    const workflowId = await createWorkflow(stack, session, singleAgentGraph({ provider: 'echo', model: 'echo-1' }), 'Agent with MCP tools');
    await owner.open(`/workflows/${workflowId}`);
    await owner.byTestId('canvas').waitFor();
    await owner.selectNode('ask');
    await owner.byTestId('tool-add-mcp').click();
    await owner.byTestId('tool-0-server').locator('option', { hasText: 'Test tools' }).waitFor({ state: 'attached' });
    await owner.byTestId('tool-0-mcp-add').check();
    await owner.screenshot('agent-mcp-tools');
    await owner.save();

    const saved = await stack.request('GET', `/api/v1/workflows/${workflowId}`, { token: session.token });
    const servers = await stack.request('GET', '/api/v1/mcp-servers', { token: session.token });
    const serverId = servers.body.mcpServers.find((s: { name: string }) => s.name === 'Test tools').id as string;
    const agent = saved.body.graph.nodes.find((n: { id: string }) => n.id === 'ask');
    expect(agent.data.tools).toEqual([{ type: 'mcp', serverId, tools: ['add'] }]);
    expect(saved.body.validation.errors ?? []).toEqual([]);
    workflowOfAgent = workflowId;
  });

  test("an http tool's parameters are checked as they are typed; a workflow tool picks a saved workflow", async () => {
    const helperId = await createWorkflow(stack, session, singleAgentGraph({ provider: 'echo', model: 'echo-1' }), 'Summariser');
    await owner.open(`/workflows/${workflowOfAgent}`);
    await owner.byTestId('canvas').waitFor();
    await owner.selectNode('ask');
    await owner.byTestId('tool-add-http').click();
    await owner.byTestId('tool-1-name').fill('weather');
    await owner.byTestId('tool-1-url').fill('https://api.example.com/weather?city={{args.city}}');
    await owner.byTestId('tool-1-parameters').fill('{"type": "object", "properties": {');
    await owner.byTestId('issue-tools.1.parameters').getByText('not JSON yet').waitFor();
    await owner.byTestId('tool-1-parameters').fill('{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}');
    await owner.byTestId('issue-tools.1.parameters').waitFor({ state: 'detached' });
    await owner.byTestId('tool-add-workflow').click();
    await owner.byTestId('tool-2-workflow').locator('option', { hasText: 'Summariser' }).waitFor({ state: 'attached' });
    await owner.byTestId('tool-2-workflow').selectOption({ label: 'Summariser' });
    await owner.screenshot('agent-http-and-workflow-tools');
    await owner.save();

    const saved = await stack.request('GET', `/api/v1/workflows/${workflowOfAgent}`, { token: session.token });
    const tools = saved.body.graph.nodes.find((n: { id: string }) => n.id === 'ask').data.tools;
    expect(tools.slice(1)).toEqual([
      {
        type: 'http',
        name: 'weather',
        method: 'GET',
        url: 'https://api.example.com/weather?city={{args.city}}',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
      { type: 'workflow', name: 'workflow_1', workflowId: helperId },
    ]);
    expect(saved.body.validation.errors ?? []).toEqual([]);
  });
});
