// The Runs page and the Dashboard in Debian's Chromium against the real stack (issue 13 item 3): a team's runs
// (echo, a priced model of the fake provider, one the provider refuses) are listed with their workflow, duration,
// readable error, tokens and cost; filtering by status keeps the failed one, which opens on its canvas; the
// dashboard draws its four charts (SVG) named by what they show, in light and dark, and both pages pass axe.
// Screenshots go to test-artifacts/e2e-runs-dashboard/.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { DEFAULT_MODEL_PRICES } from '../../core/model-prices';
import { singleAgentGraph } from '../fixtures/graphs';
import { startFakeLlmServer, type FakeLlmServer } from '../fake-llm/server';
import { createWorkflow, startRun, waitForExecution, type TestSession } from '../support/session';
import { startTestStack, type TestStack } from '../support/stack';
import { expectAccessible } from './accessibility';
import { launchChromium } from './chromium';
import { CanvasPage } from './pages/CanvasPage';
import { ensureWebBuilt } from './web-build';

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e-runs-dashboard');
const PASSWORD = 'correct horse battery';

jest.setTimeout(180_000);

let stack: TestStack;
let fake: FakeLlmServer;
let browser: Browser;
let user: CanvasPage;
const runs = { echo: '', priced: '', failing: '' };
const workflows = { failing: '' };

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  const webDir = ensureWebBuilt();
  fake = await startFakeLlmServer();
  stack = await startTestStack({
    webDir,
    providers: { openai: { apiKey: 'test-openai-key', baseURL: fake.openaiBaseURL }, anthropic: {} },
    modelPrices: { ...DEFAULT_MODEL_PRICES, 'openai/priced-model': { inputPerMTok: 2, outputPerMTok: 10 } },
  });
  await stack.startWorker();
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  user = new CanvasPage(await context.newPage(), stack.baseUrl, ARTIFACTS);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await fake?.close();
});

describe('the runs page and the dashboard', () => {
  test('the team runs three workflows: one with echo, one on a priced model, one the provider refuses', async () => {
    const email = `runs-${randomBytes(4).toString('hex')}@example.com`;
    await user.register(`Runs ${randomBytes(3).toString('hex')}`, email, PASSWORD);
    const login = await stack.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
    const session = { token: login.body.accessToken, tenantId: login.body.tenant.id } as TestSession;
    fake.script('priced-model', { usage: { inputTokens: 1000, outputTokens: 500 }, text: 'priced answer' });
    fake.script('locked-model', { status: 401, message: 'Incorrect API key provided' });
    const echo = await createWorkflow(stack, session, singleAgentGraph({ provider: 'echo', model: 'echo-1' }), 'Echo digest');
    const priced = await createWorkflow(stack, session, singleAgentGraph({ provider: 'openai', model: 'priced-model' }), 'Priced summary');
    workflows.failing = await createWorkflow(stack, session, singleAgentGraph({ provider: 'openai', model: 'locked-model', retry: { maximumAttempts: 1 } }), 'Locked out');
    runs.echo = await startRun(stack, session, echo);
    runs.priced = await startRun(stack, session, priced);
    runs.failing = await startRun(stack, session, workflows.failing);
    for (const id of Object.values(runs)) await waitForExecution(stack, session, id);
  });

  test('/runs lists every run with its workflow, error, tokens and cost, and filters by status', async () => {
    await user.byTestId('nav-runs').click();
    await user.byTestId('runs-page').waitFor();
    expect(await user.page.title()).toBe('Runs — Tessera');
    await user.expectCount(user.page.locator('tr.run-row'), 3);
    const failed = user.byTestId(`runs-row-${runs.failing}`);
    await failed.getByText('Locked out').waitFor();
    await failed.getByTestId('runs-error-cell').getByText('Incorrect API key provided', { exact: false }).waitFor();
    await user.byTestId(`runs-row-${runs.priced}`).getByTestId('runs-cost').getByText('$0.0070').waitFor();
    await user.byTestId(`runs-row-${runs.echo}`).getByTestId('runs-cost').getByText('$0').waitFor();
    await user.screenshot('runs');
    await expectAccessible(user.page, 'the runs page');

    await user.byTestId('runs-status').selectOption('failed');
    await user.byTestId('runs-apply').click();
    await user.expectCount(user.page.locator('tr.run-row'), 1);
    await failed.waitFor();
    await user.screenshot('runs-failed');

    await failed.getByTestId('runs-status-cell').click();
    await user.page.waitForURL(`**/workflows/${workflows.failing}/runs/${runs.failing}`);
    await user.page.locator('[data-testid="run-status"]', { hasText: 'failed' }).waitFor();
    await user.waitForNodeStatus('ask', 'failed');
    await user.screenshot('run-opened');
  });

  test('/dashboard draws its four charts, named by what they show, in light and dark', async () => {
    await user.byTestId('nav-dashboard').click();
    await user.byTestId('dashboard-page').waitFor();
    expect(await user.page.title()).toBe('Dashboard — Tessera');
    await user.byTestId('total-runs').getByText('3', { exact: true }).waitFor();
    for (const chart of ['chart-runs', 'chart-duration', 'chart-models', 'chart-failing']) {
      await user.page.locator(`[data-testid="${chart}-canvas"] svg`).waitFor();
      // Axes, grid lines and at least one bar or line: ECharts has drawn the figures.
      expect({ chart, drawn: (await user.page.locator(`[data-testid="${chart}-canvas"] svg path`).count()) > 3 }).toEqual({ chart, drawn: true });
    }
    expect(await user.byTestId('chart-runs-canvas').getAttribute('aria-label')).toBe('Runs per day by status: 3 runs over 31 days (2 succeeded, 1 failed).');
    expect(await user.byTestId('chart-failing-canvas').getAttribute('aria-label')).toBe('Top failing nodes: ask of Locked out failed 1 times.');
    await user.byTestId('chart-models-show-table').click();
    const priced = user.byTestId('models-table').locator('tr', { hasText: 'openai/priced-model' });
    await priced.getByText('$0.0070').waitFor();
    await user.screenshot('dashboard');
    await expectAccessible(user.page, 'the dashboard');

    await user.byTestId('theme-dark').click();
    await user.page.locator('html[data-theme="dark"]').waitFor();
    await user.page.locator('[data-testid="chart-runs-canvas"] svg').waitFor();
    await user.screenshot('dashboard-dark');
    await expectAccessible(user.page, 'the dashboard (dark)');
    await user.byTestId('nav-runs').click();
    await user.expectCount(user.page.locator('tr.run-row'), 3);
    await user.screenshot('runs-dark');
    await expectAccessible(user.page, 'the runs page (dark)');
    await user.byTestId('theme-light').click();
  });
});
