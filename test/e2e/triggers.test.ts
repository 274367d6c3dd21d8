// Triggers in Debian's Chromium against the real stack (issue 12): on the editor's Triggers tab an owner adds
// an hourly schedule with the inputs of every run and sees its next five firings, pauses it, fires it now and
// finds the run in the Runs tab as started by the schedule; adds a webhook, copies its secret from the page
// (shown once), signs a delivery with it and gets the run's outputs back; filters the runs by trigger; deletes
// both. The tab passes axe-core. Screenshots go to test-artifacts/e2e-triggers/.
import { createHmac, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { singleAgentGraph } from '../fixtures/graphs';
import { createWorkflow, type TestSession } from '../support/session';
import { startTestStack, type TestStack } from '../support/stack';
import { waitUntil } from '../support/wait-until';
import { expectAccessible } from './accessibility';
import { launchChromium } from './chromium';
import { SettingsPage } from './pages/SettingsPage';
import { ensureWebBuilt } from './web-build';

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e-triggers');
const PASSWORD = 'correct horse battery';

jest.setTimeout(240_000);

let stack: TestStack;
let browser: Browser;
let owner: SettingsPage;
let session: TestSession;
let workflowId = '';

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  const webDir = ensureWebBuilt();
  stack = await startTestStack({ webDir });
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  owner = new SettingsPage(await context.newPage(), stack.baseUrl, path.join(ARTIFACTS, 'owner'));
  const email = `triggers-${randomBytes(4).toString('hex')}@example.com`;
  await owner.register(`Triggers ${randomBytes(3).toString('hex')}`, email, PASSWORD);
  const login = await stack.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
  session = { token: login.body.accessToken, tenantId: login.body.tenant.id, userId: login.body.user.id, email };
  workflowId = await createWorkflow(stack, session, singleAgentGraph({ provider: 'echo', model: 'echo-1' }), 'Triggered agent');
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function runsOf(trigger: string): Promise<{ id: string; status: string }[]> {
  const res = await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}&trigger=${trigger}`, { token: session.token });
  return res.body.items;
}

describe('triggers in the browser', () => {
  test('a schedule: timing, inputs, next runs, pause, run now, delete', async () => {
    await owner.open(`/workflows/${workflowId}`);
    await owner.byTestId('tab-triggers').click();
    await owner.byTestId('schedules-empty').waitFor();
    await owner.byTestId('schedule-kind-interval').check();
    await owner.byTestId('schedule-interval').fill('3600');
    await owner.byTestId('schedule-next').click();
    await owner.byTestId('run-input-topic').fill('otters');
    await owner.byTestId('run-start').click();
    await owner.byTestId('triggers-notice').getByText('Schedule created; next run').waitFor();

    const row = owner.page.locator('[data-testid^="schedule-"][data-paused]');
    await row.getByTestId('schedule-spec').getByText('every 1 h').waitFor();
    await owner.expectCount(row.getByTestId('schedule-next-runs').locator('li'), 5);
    const times = await row.getByTestId('schedule-next-runs').locator('time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime') ?? '')));
    for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!).toBe(3_600_000);
    expect(await row.getByTestId('schedule-inputs').textContent()).toContain('"topic":"otters"');
    await owner.screenshot('schedule-created');
    await expectAccessible(owner.page, 'Editor · Triggers');

    await row.getByTestId('schedule-toggle').click();
    await row.getByTestId('schedule-paused').waitFor();
    await row.getByTestId('schedule-no-next').getByText('No run is planned while paused.').waitFor();
    const listed = await stack.request('GET', `/api/v1/workflows/${workflowId}/schedules`, { token: session.token });
    expect(listed.body.schedules).toEqual([expect.objectContaining({ paused: true, nextRunTimes: [] })]);

    // Run now fires even while paused; the run is an ordinary execution started by the schedule.
    await row.getByTestId('schedule-trigger').click();
    await owner.byTestId('triggers-notice').getByText('Fired').waitFor();
    const scheduled = await waitUntil(
      'the run the schedule fired has succeeded',
      async () => {
        const runs = await runsOf('schedule');
        return runs.length === 1 && runs[0]!.status === 'succeeded' ? runs : null;
      },
      { timeoutMs: 90_000 },
    );
    const fired = await stack.request('GET', `/api/v1/executions/${scheduled[0]!.id}`, { token: session.token });
    expect(fired.body).toMatchObject({ inputs: { topic: 'otters' }, outputs: { out: 'Tell me about otters' }, trigger: { type: 'schedule' } });
    await owner.byTestId('tab-runs').click();
    await owner.byTestId(`run-row-${scheduled[0]!.id}`).getByTestId('run-trigger').getByText('schedule').waitFor();

    await owner.byTestId('tab-triggers').click();
    await owner.confirmIn(row, 'schedule-delete');
    await owner.byTestId('schedules-empty').waitFor();
    expect((await stack.request('GET', `/api/v1/workflows/${workflowId}/schedules`, { token: session.token })).body.schedules).toEqual([]);
  });

  test('a webhook: the secret shown once signs a delivery that answers with the outputs; runs filter by trigger', async () => {
    await owner.open(`/workflows/${workflowId}`);
    await owner.byTestId('tab-triggers').click();
    await owner.byTestId('webhooks-empty').waitFor();
    await owner.byTestId('webhook-create').click();
    const secret = await owner.byTestId('webhook-secret').inputValue();
    const url = await owner.byTestId('webhook-new-url').inputValue();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(url).toMatch(new RegExp(`^${stack.baseUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/hooks/[0-9a-f-]{36}$`));
    expect(await owner.byTestId('webhook-example').textContent()).toContain(`curl -X POST '${url}?wait=10'`);
    await owner.screenshot('webhook-secret');

    const body = JSON.stringify({ topic: 'badgers' });
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const res = await fetch(`${url}?wait=10`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tessera-signature': signature, 'x-tessera-delivery': 'e2e-1' }, body });
    expect({ status: res.status, body: res.status === 200 ? null : await res.text() }).toEqual({ status: 200, body: null });
    const delivered = (await res.json()) as { executionId: string; status: string; outputs: unknown };
    expect(delivered).toMatchObject({ status: 'succeeded', outputs: { out: 'Tell me about badgers' } });

    await owner.byTestId('webhook-secret-done').click();
    await owner.byTestId('webhook-secret-box').waitFor({ state: 'detached' });
    expect(await owner.page.content()).not.toContain(secret);
    const hookRow = owner.page.locator('[data-testid^="webhook-"]').filter({ has: owner.byTestId('webhook-url') });
    await hookRow.getByTestId('webhook-url').getByText(url).waitFor();

    await owner.byTestId('tab-runs').click();
    await owner.byTestId(`run-row-${delivered.executionId}`).waitFor();
    await owner.byTestId('run-trigger-filter').selectOption('webhook');
    await owner.expectCount(owner.page.locator('[data-testid^="run-row-"]'), 1);
    await owner.byTestId(`run-row-${delivered.executionId}`).getByTestId('run-trigger').getByText('webhook').waitFor();
    await owner.byTestId('run-trigger-filter').selectOption('mcp');
    await owner.byTestId('run-list-empty').getByText('No runs started by MCP.').waitFor();
    await owner.screenshot('runs-filtered');

    await owner.byTestId('tab-triggers').click();
    await owner.confirmIn(hookRow, 'webhook-delete');
    await owner.byTestId('webhooks-empty').waitFor();
    const again = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tessera-signature': signature }, body });
    expect(again.status).toBe(404);
  });
});
