// The run view of a tool-using agent in Debian's Chromium against the real stack (issue 11): an agent with an
// http tool against a loopback test server (TOOL_ALLOWED_HOSTS=127.0.0.1), the fake provider asking for the
// tool once. While the server holds the request, the node's details show round 1's model call and the call
// running with its arguments; once it answers, the call's result and round 2's answer, whole from the output.
// Screenshots go to test-artifacts/e2e-run-view-tools/.
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startFakeLlmServer, type FakeLlmServer } from '../fake-llm/server';
import { createWorkflow, registerTenant, startRun, type TestSession } from '../support/session';
import { startTestStack, type TestStack } from '../support/stack';
import { launchChromium } from './chromium';
import { CanvasPage } from './pages/CanvasPage';
import { ensureWebBuilt } from './web-build';

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e-run-view-tools');
const PASSWORD = 'correct horse battery';
const MODEL = 'e2e-run-view-tools';

jest.setTimeout(180_000);

let stack: TestStack;
let browser: Browser;
let session: TestSession;
let fake: FakeLlmServer;
let toolServer: Server;
let toolUrl: string;
/** Every request the tool server saw, by its `q`; the first is held until `release` is called. */
const seen: string[] = [];
let release: (() => void) | null = null;
let held: Promise<void>;

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  const webDir = ensureWebBuilt();
  fake = await startFakeLlmServer();
  let arrived: () => void = () => undefined;
  held = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  toolServer = createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('q') ?? '';
    seen.push(q);
    const answer = (): void => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ q, answer: `about ${q}` }));
    };
    if (seen.length === 1) {
      release = answer;
      arrived();
    } else answer();
  });
  await new Promise<void>((resolve) => toolServer.listen(0, '127.0.0.1', resolve));
  toolUrl = `http://127.0.0.1:${(toolServer.address() as AddressInfo).port}`;
  stack = await startTestStack({
    webDir,
    toolAllowedHosts: '127.0.0.1',
    providers: { openai: { apiKey: 'test-openai-key', baseURL: fake.openaiBaseURL }, anthropic: {} },
  });
  browser = await launchChromium();
  session = await registerTenant(stack);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await fake?.close();
  if (toolServer) {
    toolServer.closeAllConnections();
    await new Promise<void>((resolve) => toolServer.close(() => resolve()));
  }
});

function toolGraph() {
  const lookup = {
    type: 'http',
    name: 'lookup',
    description: 'Looks a word up',
    method: 'GET',
    url: `${toolUrl}/lookup?q={{args.q}}`,
    parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'], additionalProperties: false },
  };
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', default: 'tea' } } } },
      { id: 'a', type: 'agent', position: { x: 240, y: 0 }, data: { provider: 'openai', model: MODEL, prompt: 'Tell me about {{inputs.topic}}', tools: [lookup] } },
      { id: 'out', type: 'output', position: { x: 480, y: 0 }, data: { value: '{{nodes.a.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'a' },
      { id: 'e2', source: 'a', target: 'out' },
    ],
  };
}

describe("the run view of a tool-using agent", () => {
  test('shows each round and the tool call with its arguments, status, duration and result, live and then whole', async () => {
    fake.script(MODEL, { toolCalls: [{ name: 'lookup', arguments: { q: 'tea' } }], usage: { inputTokens: 10, outputTokens: 3 } }, { usage: { inputTokens: 20, outputTokens: 5 } });
    const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    try {
      const user = new CanvasPage(await context.newPage(), stack.baseUrl, ARTIFACTS);
      await user.login(session.email, PASSWORD);
      const workflowId = await createWorkflow(stack, session, toolGraph(), 'Agent with a tool');
      const executionId = await startRun(stack, session, workflowId, {});
      await user.open(`/workflows/${workflowId}/runs/${executionId}`);
      await user.waitForNodeStatus('a', 'running');
      await user.node('a').locator('.tnode-head').click();

      // Live: the server holds the call, so the page can only know it from the events.
      await held;
      const round1 = user.page.locator('[data-testid="run-round"][data-round="1"]');
      await round1.getByTestId('run-round-model-status').getByText('succeeded').waitFor();
      const call = round1.getByTestId('run-tool-call');
      await call.getByTestId('run-tool-call-status').getByText('running').waitFor();
      expect(await call.getByTestId('run-tool-call-name').textContent()).toBe('lookup');
      expect(JSON.parse((await call.getByTestId('run-tool-call-arguments').textContent()) ?? '')).toEqual({ q: 'tea' });
      expect(await round1.getByTestId('run-round-model-usage').textContent()).toContain('13 tokens');
      await user.screenshot('tool-call-running');

      release!();
      await user.page.locator('[data-testid="run-status"]', { hasText: 'succeeded' }).waitFor();
      await user.waitForNodeStatus('a', 'succeeded');
      await call.getByTestId('run-tool-call-status').getByText('succeeded').waitFor();
      await call.getByTestId('run-tool-call-duration').waitFor();
      // Whole from the stored output (the node's row is read again once it succeeded): the http tool's answer.
      await call.getByTestId('run-tool-call-result').getByText('about tea').waitFor();
      const result = JSON.parse((await call.getByTestId('run-tool-call-result').textContent()) ?? '');
      expect(result).toEqual({ status: 200, body: { q: 'tea', answer: 'about tea' } });
      const round2 = user.page.locator('[data-testid="run-round"][data-round="2"]');
      await round2.getByTestId('run-round-model-status').getByText('succeeded').waitFor();
      expect(await round2.getByTestId('run-tool-call').count()).toBe(0);
      await user.screenshot('rounds-succeeded');

      expect(seen).toEqual(['tea']);
      expect(fake.callsFor(MODEL)).toHaveLength(2);
    } finally {
      await context.close();
    }
  });
});
