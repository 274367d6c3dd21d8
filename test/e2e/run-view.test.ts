// The run view in Debian's Chromium against the real stack (issue 10): while a run of several agents goes on,
// the page colours every node from the events alone. It reads the execution once when it opens (and once more
// per reconnect, if the socket had to reconnect), not after each burst of events, and still ends on the final
// statuses, attempts and outputs. Screenshots go to test-artifacts/e2e-run-view/.
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { createWorkflow, registerTenant, startRun, type TestSession } from '../support/session';
import { startTestStack, type TestStack } from '../support/stack';
import { launchChromium } from './chromium';
import { CanvasPage } from './pages/CanvasPage';
import { ensureWebBuilt } from './web-build';

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e-run-view');
const PASSWORD = 'correct horse battery';
/** Each echo turn takes this long, so the run's events come in separate bursts. */
const TURN_MS = 700;
/** Events closer than this count as one burst (the old store read the run 300 ms after each). */
const BURST_GAP_MS = 250;

jest.setTimeout(180_000);

let stack: TestStack;
let browser: Browser;
let session: TestSession;

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  const webDir = ensureWebBuilt();
  stack = await startTestStack({ webDir });
  browser = await launchChromium();
  session = await registerTenant(stack);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** trigger → three echo agents in a chain → a transform → output. */
function chainGraph() {
  const agent = (id: string, x: number, prompt: string) => ({ id, type: 'agent', position: { x, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt, delayMs: TURN_MS } });
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', default: 'tea' } } } },
      agent('outline', 240, 'Outline {{inputs.topic}}'),
      agent('draft', 480, 'Draft from {{nodes.outline.text}}'),
      agent('polish', 720, 'Polish {{nodes.draft.text}}'),
      { id: 'title', type: 'transform', position: { x: 960, y: 0 }, data: { template: 'Final: {{nodes.polish.text}}' } },
      { id: 'out', type: 'output', position: { x: 1200, y: 0 }, data: { value: '{{nodes.title}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'outline' },
      { id: 'e2', source: 'outline', target: 'draft' },
      { id: 'e3', source: 'draft', target: 'polish' },
      { id: 'e4', source: 'polish', target: 'title' },
      { id: 'e5', source: 'title', target: 'out' },
    ],
  };
}

describe('the run view', () => {
  test('colours a run of several nodes from its events without reading the execution after each burst', async () => {
    const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    try {
      const user = new CanvasPage(await context.newPage(), stack.baseUrl, ARTIFACTS);
      await user.login(session.email, PASSWORD);
      const workflowId = await createWorkflow(stack, session, chainGraph(), 'Chain of three');

      // Every read of this execution (not its events, not the version list), and every subscription and event frame.
      let executionId = '';
      const reads: string[] = [];
      const subscribes: number[] = [];
      const eventTimes: number[] = [];
      user.page.on('request', (request) => {
        const url = new URL(request.url());
        if (executionId && request.method() === 'GET' && url.pathname === `/api/v1/executions/${executionId}`) reads.push(url.search);
      });
      user.page.on('websocket', (ws) => {
        ws.on('framesent', (frame) => {
          const message = JSON.parse(String(frame.payload));
          if (message.type === 'subscribe' && message.executionId === executionId) subscribes.push(message.afterSeq);
        });
        ws.on('framereceived', (frame) => {
          const message = JSON.parse(String(frame.payload));
          if (message.type === 'event' && message.event.executionId === executionId) eventTimes.push(Date.now());
        });
      });

      executionId = await startRun(stack, session, workflowId, { topic: 'tea' });
      await user.open(`/workflows/${workflowId}/runs/${executionId}`);
      await user.waitForNodeStatus('draft', 'running');
      await user.screenshot('running');
      await user.page.locator('[data-testid="run-status"]', { hasText: 'succeeded' }).waitFor();
      for (const id of ['start', 'outline', 'draft', 'polish', 'title', 'out']) await user.waitForNodeStatus(id, 'succeeded');
      await user.byTestId('run-outputs').getByText('Final: Polish Draft from Outline tea').waitFor();
      await user.byTestId('run-events').locator('summary').click();
      await user.byTestId('run-events').locator('li', { hasText: 'execution.succeeded' }).waitFor();
      await user.screenshot('succeeded');

      // The run came in several bursts (each turn waits TURN_MS), which the old store answered with a read each.
      const bursts = eventTimes.filter((t, i) => i === 0 || t - eventTimes[i - 1]! > BURST_GAP_MS).length;
      expect(bursts).toBeGreaterThanOrEqual(3);
      // One read on open, and one per reconnect (a resubscription after the first) if the socket dropped.
      expect(subscribes.length).toBeGreaterThanOrEqual(1);
      expect(reads).toHaveLength(subscribes.length);

      // A node picked shows its details: that read is the user's, not the events'.
      await user.node('polish').locator('.tnode-head').click();
      await user.byTestId('run-node-output').getByText('Polish Draft from Outline tea').waitFor();
      expect(reads).toHaveLength(subscribes.length + 1);
    } finally {
      await context.close();
    }
  });
});
