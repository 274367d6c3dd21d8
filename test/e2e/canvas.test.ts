// End to end in Debian's Chromium against the real stack (API serving the built web app, worker, Temporal,
// Postgres, Redis): a builder draws trigger → agent → approval → output by drag and connect, saves, runs,
// watches the nodes turn green live, approves from the inbox and sees the output; an invalid connection is
// refused, undo/redo work, and a viewer can look but not edit. Screenshots go to test-artifacts/e2e/.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { startTestStack, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';
import { launchChromium } from './chromium';
import { CanvasPage } from './pages/CanvasPage';
import { ensureWebBuilt } from './web-build';

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e');
const PASSWORD = 'correct horse battery';

// Each step waits for a state; this budget is for a busy machine, where one test here drives the browser, the
// API and the worker at once. It is well above the page's step timeout, so a step that never comes fails with
// its own message rather than as a test timeout.
jest.setTimeout(180_000);

let stack: TestStack;
let browser: Browser;
let ownerContext: BrowserContext;
let owner: CanvasPage;
const ownerEmail = `builder-${randomBytes(4).toString('hex')}@example.com`;
let workflowId = '';

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  const webDir = ensureWebBuilt();
  stack = await startTestStack({ webDir });
  browser = await launchChromium();
  ownerContext = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  owner = new CanvasPage(await ownerContext.newPage(), stack.baseUrl, path.join(ARTIFACTS, 'builder'));
  // A fresh clone builds the web app and bundles the workflows first; on a busy machine that takes minutes.
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('the canvas in the browser', () => {
  test('a builder registers and creates a workflow', async () => {
    await owner.register(`Tiles ${randomBytes(3).toString('hex')}`, ownerEmail, PASSWORD);
    expect(await owner.byTestId('session-role').textContent()).toBe('owner');
    await owner.screenshot('registered');
    workflowId = await owner.createWorkflow('Review flow');
    await owner.page.locator('[data-testid="workflow-version"]', { hasText: 'v1' }).waitFor();
    await owner.screenshot('empty-canvas');
  });

  test('nodes dragged from the palette land on the canvas; a second trigger is refused', async () => {
    await owner.dropNode('trigger', 130, 200);
    await owner.dropNode('agent', 400, 200);
    await owner.dropNode('approval', 670, 200);
    await owner.dropNode('output', 940, 200);
    await owner.expectCount(owner.nodes(), 4);
    for (const id of ['trigger_1', 'agent_1', 'approval_1', 'output_1']) await owner.node(id).waitFor();
    await owner.dropNode('trigger', 400, 450);
    await owner.page.locator('[data-testid="notice"]', { hasText: 'exactly one trigger' }).waitFor();
    await owner.settle();
    await owner.expectCount(owner.nodes(), 4);
    // Unconnected nodes are unreachable: the validator's problems show on the nodes and in the list.
    await owner.byTestId('node-problems-agent_1').waitFor();
    await owner.byTestId('tab-problems').click();
    await owner.byTestId('problem-UNREACHABLE_NODE').first().waitFor();
    await owner.screenshot('nodes-dropped');
  });

  test('the side panel configures the nodes and reports bad values as you type', async () => {
    await owner.selectNode('trigger_1');
    await owner.byTestId('trigger-new-input').fill('topic');
    await owner.byTestId('trigger-add-input').click();
    await owner.byTestId('trigger-input-topic').waitFor();

    await owner.selectNode('agent_1');
    await owner.fillField('prompt', '');
    await owner.byTestId('issue-prompt').waitFor();
    await owner.fillField('prompt', 'Write about {{inputs.topic}}');
    await owner.byTestId('issue-prompt').waitFor({ state: 'detached' });
    await owner.fillField('prompt', 'Write about {{inputs.topic');
    await owner.byTestId('node-panel-problems').getByText('not a valid template').waitFor();
    await owner.fillField('prompt', 'Write about {{inputs.topic}}');

    await owner.selectNode('approval_1');
    await owner.fillField('title', 'Publish the draft?');
    await owner.byTestId('approval-new-field').fill('channel');
    await owner.byTestId('approval-new-field').press('Enter');
    await owner.byTestId('approval-form-field-channel').waitFor();
    await owner.selectNode('output_1');
    await owner.fillField('value', 'Published: {{nodes.agent_1.text}}');
    await owner.screenshot('configured');
  });

  test('nodes connect by dragging between handles; an invalid connection is refused', async () => {
    await owner.connect('trigger_1', 'agent_1');
    await owner.connect('agent_1', 'approval_1');
    await owner.connect('approval_1', 'output_1', 'approved');
    await owner.expectCount(owner.edges(), 3);
    // output → agent would close a cycle: the drop is refused and no edge appears.
    await owner.connect('output_1', 'agent_1');
    await owner.settle();
    await owner.expectCount(owner.edges(), 3);
    await owner.byTestId('tab-problems').click();
    await owner.byTestId('graph-valid').waitFor();
    await owner.screenshot('connected');
  });

  test('undo, redo and duplicate work from the keyboard', async () => {
    await owner.pressShortcut('Control+z');
    await owner.expectCount(owner.edges(), 2);
    await owner.pressShortcut('Control+z');
    await owner.expectCount(owner.edges(), 1);
    await owner.screenshot('undone');
    await owner.pressShortcut('Control+Shift+z');
    await owner.pressShortcut('Control+Shift+z');
    await owner.expectCount(owner.edges(), 3);
    await owner.byTestId('graph-valid').waitFor();
    await owner.screenshot('redone');
    // Duplicate the selected node from the keyboard, then take it back.
    await owner.selectNode('agent_1');
    await owner.page.keyboard.press('Control+d');
    await owner.node('agent_2').waitFor();
    await owner.expectCount(owner.nodes(), 5);
    await owner.screenshot('duplicated');
    await owner.page.keyboard.press('Control+z');
    await owner.expectCount(owner.nodes(), 4);
  });

  test('save creates a version', async () => {
    await owner.save();
    await owner.page.locator('[data-testid="workflow-version"]', { hasText: 'v2' }).waitFor();
    const saved = await stack.request('GET', `/api/v1/workflows/${workflowId}/versions`, { token: await ownerToken() });
    expect(saved.body.items.map((v: { version: number }) => v.version).sort()).toEqual([1, 2]);
    await owner.byTestId('tab-versions').click();
    await owner.byTestId('version-1').waitFor();
    await owner.screenshot('saved');
    // Restoring v1 (the empty canvas) is an unsaved, undoable change.
    await owner.byTestId('restore-version-1').click();
    await owner.expectCount(owner.nodes(), 0);
    await owner.byTestId('unsaved').waitFor();
    await owner.screenshot('restored-v1');
    await owner.pressShortcut('Control+z');
    await owner.expectCount(owner.nodes(), 4);
    await owner.byTestId('unsaved').waitFor({ state: 'detached' });
  });

  test('a run colours the nodes live, waits for approval in the inbox, then shows the output', async () => {
    // The first socket is cut after two events, as a flaky network would: the client must resubscribe after
    // the last event it saw and end with every event exactly once.
    const subscribes: { afterSeq: number }[] = [];
    let connections = 0;
    await owner.page.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
      const connection = ++connections;
      const server = ws.connectToServer();
      let relayed = 0;
      ws.onMessage((message) => {
        const parsed = JSON.parse(String(message));
        if (parsed.type === 'subscribe') subscribes.push(parsed);
        server.send(message);
      });
      server.onMessage((message) => {
        if (connection === 1 && relayed >= 2) return;
        ws.send(message);
        if (JSON.parse(String(message)).type === 'event') relayed += 1;
        if (connection === 1 && relayed === 2) {
          void ws.close();
          void server.close();
        }
      });
    });
    await owner.startRun({ topic: 'mosaic tiles' });
    await owner.waitForNodeStatus('agent_1', 'succeeded');
    await owner.waitForNodeStatus('approval_1', 'waiting');
    await owner.page.locator('[data-testid="run-status"]', { hasText: 'waiting' }).waitFor();
    expect(await owner.byTestId('run-version').textContent()).toBe('ran v2');
    expect(await owner.nodeStatus('trigger_1')).toBe('succeeded');
    expect(await owner.nodeStatus('output_1')).toBe('pending');
    await owner.node('agent_1').locator('.tnode-head').click();
    await owner.byTestId('run-node-output').getByText('Write about mosaic tiles').waitFor();
    expect(await owner.byTestId('temporal-link').getAttribute('href')).toContain('http://localhost:8233/namespaces/default/workflows/');
    // The colours may come from a re-read of the rows before the second socket is up: wait for the resubscribe.
    await waitUntil('the run view subscribes again after the cut', () => subscribes.length >= 2);
    expect(connections).toBeGreaterThanOrEqual(2);
    expect(subscribes[0]?.afterSeq).toBe(0);
    expect(subscribes[1]?.afterSeq).toBe(2);
    await owner.byTestId('run-events').locator('summary').click();
    await owner.screenshot('run-waiting');

    await owner.page.locator('[data-testid="inbox-badge"]', { hasText: /^1$/ }).waitFor();
    await owner.byTestId('nav-inbox').click();
    await owner.byTestId('approval-title').getByText('Publish the draft?').waitFor();
    await owner.byTestId('approval-context').getByText('Write about mosaic tiles').first().waitFor();
    await owner.byTestId('approval-field-channel').fill('blog');
    await owner.byTestId('approval-comment').fill('Looks good');
    await owner.screenshot('inbox');
    await owner.byTestId('approve').click();
    await owner.byTestId('inbox-decided').waitFor();
    await owner.byTestId('inbox-empty').waitFor();
    await owner.byTestId('inbox-badge').waitFor({ state: 'detached' });
    const decided = await stack.request('GET', `/api/v1/approvals?status=decided&workflowId=${workflowId}`, { token: await ownerToken() });
    expect(decided.body.items[0].decisions[0]).toMatchObject({ decision: 'approve', comment: 'Looks good', data: { channel: 'blog' } });

    await owner.page.goBack();
    await owner.waitForNodeStatus('output_1', 'succeeded');
    await owner.page.locator('[data-testid="run-status"]', { hasText: 'succeeded' }).waitFor();
    await owner.byTestId('run-outputs').getByText('Published: Write about mosaic tiles').waitFor();
    // The colours come from the stored rows at once; the event log arrives over the socket.
    await owner.byTestId('run-events').locator('li', { hasText: 'execution.succeeded' }).waitFor({ state: 'attached' });
    const seqs = await owner.byTestId('run-events').locator('li').evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-seq'))));
    expect(seqs.length).toBeGreaterThan(8);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    await owner.screenshot('run-succeeded');
  });

  test('a viewer sees the workflow and its runs read-only', async () => {
    const viewerEmail = `viewer-${randomBytes(4).toString('hex')}@example.com`;
    const added = await stack.request('POST', '/api/v1/users', {
      token: await ownerToken(),
      body: { email: viewerEmail, password: PASSWORD, role: 'viewer', name: 'Vera Viewer' },
    });
    expect(added.status).toBe(201);

    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    try {
      const viewer = new CanvasPage(await context.newPage(), stack.baseUrl, path.join(ARTIFACTS, 'viewer'));
      await viewer.login(viewerEmail, PASSWORD);
      expect(await viewer.byTestId('session-role').textContent()).toBe('viewer');
      await expect(viewer.byTestId('create-workflow').count()).resolves.toBe(0);
      await viewer.screenshot('viewer-list');
      await viewer.byTestId('workflow-link').filter({ hasText: 'Review flow' }).click();
      await viewer.byTestId('read-only').waitFor();
      await expect(viewer.byTestId('palette').count()).resolves.toBe(0);
      await expect(viewer.byTestId('save').count()).resolves.toBe(0);
      await expect(viewer.byTestId('run').count()).resolves.toBe(0);
      await viewer.node('agent_1').waitFor();
      await viewer.selectNode('agent_1');
      await expect(viewer.byTestId('field-prompt').isDisabled()).resolves.toBe(true);

      // Dragging a node and pressing delete change nothing (the drag may pan the view: compare node to node).
      const offset = async (): Promise<{ dx: number; dy: number }> => {
        const a = await viewer.node('agent_1').boundingBox();
        const t = await viewer.node('trigger_1').boundingBox();
        if (!a || !t) throw new Error('nodes not visible');
        return { dx: Math.round(a.x - t.x), dy: Math.round(a.y - t.y) };
      };
      const before = await offset();
      const box = await viewer.node('agent_1').locator('.tnode-head').boundingBox();
      if (!box) throw new Error('agent node not visible');
      await viewer.page.mouse.move(box.x + 20, box.y + 5);
      await viewer.page.mouse.down();
      await viewer.page.mouse.move(box.x + 220, box.y + 205, { steps: 5 });
      await viewer.page.mouse.up();
      await viewer.pressShortcut('Delete');
      await viewer.settle();
      expect(await offset()).toEqual(before);
      await viewer.expectCount(viewer.nodes(), 4);

      // The run opens read-only: the nodes show how it ran, and there is no way to cancel it.
      await viewer.byTestId('tab-runs').click();
      await viewer.page.locator('[data-testid^="run-row-"]').first().getByRole('link').click();
      await viewer.page.waitForURL(/\/runs\//);
      await viewer.waitForNodeStatus('output_1', 'succeeded');
      await expect(viewer.byTestId('cancel-run').count()).resolves.toBe(0);
      await viewer.screenshot('viewer-run');

      const put = await stack.request('PUT', `/api/v1/workflows/${workflowId}`, { token: await tokenFrom(viewer), body: { name: 'Hijacked' } });
      expect(put.status).toBe(403);
    } finally {
      await context.close();
    }
  });
});

function ownerToken(): Promise<string> {
  return tokenFrom(owner);
}

/** The access token the page is using, read from its stored session. */
async function tokenFrom(page: CanvasPage): Promise<string> {
  // Source text, not a function: the test's tsconfig has no DOM types.
  const token = (await page.page.evaluate("JSON.parse(localStorage.getItem('tessera.session') ?? '{}').accessToken")) as string | undefined;
  if (!token) throw new Error('the page has no session');
  return token;
}
