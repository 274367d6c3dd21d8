// End to end in Debian's Chromium against the real stack, the flows around the canvas: the workflows list
// (search, rename, delete, last run status), cancelling a waiting run from the run view, exporting a wheel and
// downloading it, the unsaved-changes guard, an expired access token refreshed without losing the page,
// signing out, and signing in with an email that belongs to two teams. Access tokens live 3 seconds here, so
// every step also runs on refreshed tokens. Screenshots go to test-artifacts/e2e-workflows/.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { startTestStack, type TestStack } from '../support/stack';
import { createWorkflow, startRun, waitForExecution, type TestSession } from '../support/session';
import { launchChromium } from './chromium';
import { CanvasPage } from './pages/CanvasPage';
import { ensureWebBuilt } from './web-build';
import { WORKFLOW_DELETION_EFFECTS } from '../../core/workflow-deletion';

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e-workflows');
const PASSWORD = 'correct horse battery';
const ACCESS_TOKEN_TTL_SECONDS = 3;

// Each step waits for a state; this budget is for a busy machine, where one test here drives the browser, the
// API, the worker and a wheel build at once. It is well above the page's step timeout, so a step that never
// comes fails with its own message rather than as a test timeout.
jest.setTimeout(180_000);

let stack: TestStack;
let dataDir: string;
let browser: Browser;
let context: BrowserContext;
let user: CanvasPage;
const email = `lister-${randomBytes(4).toString('hex')}@example.com`;
let tenantId = '';
let tenantSlug = '';
let userId = '';

/** trigger → approval → output: a run that waits until someone decides or cancels it. */
const waitingGraph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', default: 'tiles' } } } },
    { id: 'review', type: 'approval', position: { x: 260, y: 0 }, data: { title: 'Publish {{inputs.topic}}?' } },
    { id: 'done', type: 'output', position: { x: 520, y: 0 }, data: { value: 'published {{inputs.topic}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'review' },
    { id: 'e2', source: 'review', sourceHandle: 'approved', target: 'done' },
  ],
};

/** An API session with a token minted now (they expire within seconds in this suite). */
async function api(): Promise<TestSession> {
  const res = await stack.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  // With the refresh token, a poll that outlives the 3-second access token renews it instead of reading 401s.
  return { token: res.body.accessToken, refreshToken: res.body.refreshToken, tenantId, userId, email };
}

async function storedAccessToken(): Promise<string | undefined> {
  // Source text, not a function: the test's tsconfig has no DOM types.
  return (await user.page.evaluate("JSON.parse(localStorage.getItem('tessera.session') ?? '{}').accessToken")) as string | undefined;
}

function row(workflowId: string) {
  return user.byTestId(`workflow-row-${workflowId}`);
}

const ids: Record<string, string> = {};

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  const webDir = ensureWebBuilt();
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-e2e-data-'));
  stack = await startTestStack({ webDir, dataDir, accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  user = new CanvasPage(await context.newPage(), stack.baseUrl, ARTIFACTS);
  const res = await stack.request('POST', '/api/v1/auth/register', {
    body: { tenantName: `Lists ${randomBytes(3).toString('hex')}`, email, password: PASSWORD, name: 'Lee Lister' },
  });
  expect(res.status).toBe(201);
  tenantId = res.body.tenant.id;
  tenantSlug = res.body.tenant.slug;
  userId = res.body.user.id;
  const session = await api();
  for (const name of ['Alpha digest', 'Beta review', 'Gamma triage']) ids[name] = await createWorkflow(stack, session, waitingGraph, name);
  // A fresh clone builds the web app and bundles the workflows first; on a busy machine that takes minutes.
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('workflows, runs and the session in the browser', () => {
  test('the list searches by name, renames and deletes, and keeps a workflow when the delete is dismissed', async () => {
    await user.login(email, PASSWORD);
    for (const id of Object.values(ids)) await row(id).waitFor();
    await expect(row(ids['Alpha digest'] as string).textContent()).resolves.toContain('never');

    await user.byTestId('workflow-search').fill('beta');
    await row(ids['Alpha digest'] as string).waitFor({ state: 'detached' });
    await user.expectCount(user.page.locator('[data-testid^="workflow-row-"]'), 1);
    await expect(row(ids['Beta review'] as string).textContent()).resolves.toContain('Beta review');
    await user.screenshot('search');
    await user.byTestId('workflow-search').fill('');
    await row(ids['Alpha digest'] as string).waitFor();

    const gamma = ids['Gamma triage'] as string;
    await row(gamma).getByTestId('rename-workflow').click();
    await row(gamma).getByTestId('rename-input').fill('Gamma sorted');
    await row(gamma).getByTestId('rename-input').press('Enter');
    await row(gamma).getByTestId('workflow-link').filter({ hasText: 'Gamma sorted' }).waitFor();
    const renamed = await stack.request('GET', `/api/v1/workflows/${gamma}`, { token: (await api()).token });
    expect(renamed.body.name).toBe('Gamma sorted');

    // Renaming to nothing is refused with the API's message, and the name stays.
    await row(gamma).getByTestId('rename-workflow').click();
    await row(gamma).getByTestId('rename-input').fill('   ');
    await row(gamma).getByTestId('rename-input').press('Enter');
    await user.page.locator('.page .error').waitFor();
    expect((await stack.request('GET', `/api/v1/workflows/${gamma}`, { token: (await api()).token })).body.name).toBe('Gamma sorted');
    await user.screenshot('rename-refused');
    await user.open('/workflows');
    await row(gamma).waitFor();

    const alpha = ids['Alpha digest'] as string;
    // The dialog says what the API does (core/workflow-deletion.ts); Cancel keeps the workflow.
    await row(alpha).getByTestId('delete-workflow').click();
    const dialog = user.byTestId('confirm-dialog');
    await dialog.waitFor();
    expect(await dialog.locator('h2').textContent()).toBe('Delete “Alpha digest”?');
    expect(await dialog.locator('p').textContent()).toBe(WORKFLOW_DELETION_EFFECTS);
    await user.byTestId('confirm-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    await row(alpha).waitFor();
    expect((await stack.request('GET', `/api/v1/workflows/${alpha}`, { token: (await api()).token })).status).toBe(200);

    await row(alpha).getByTestId('delete-workflow').click();
    await user.byTestId('confirm-ok').click();
    await row(alpha).waitFor({ state: 'detached' });
    expect((await stack.request('GET', `/api/v1/workflows/${alpha}`, { token: (await api()).token })).status).toBe(404);
    await user.screenshot('deleted');
  });

  test('a waiting run is cancelled from the run view, and the list shows it as the last run', async () => {
    const beta = ids['Beta review'] as string;
    const session = await api();
    const executionId = await startRun(stack, session, beta, { topic: 'grout' });
    await waitForExecution(stack, session, executionId, (e) => e.status === 'waiting');

    await user.open(`/workflows/${beta}/runs/${executionId}`);
    await user.waitForNodeStatus('review', 'waiting');
    await user.page.locator('[data-testid="run-status"]', { hasText: 'waiting' }).waitFor();
    await user.page.locator('[data-testid="inbox-badge"]', { hasText: '1' }).waitFor();
    await user.screenshot('run-waiting');
    await user.byTestId('cancel-run').click();
    await user.page.locator('[data-testid="run-status"]', { hasText: 'cancelled' }).waitFor();
    await user.waitForNodeStatus('review', 'cancelled');
    await user.waitForNodeStatus('done', 'cancelled');
    await user.byTestId('cancel-run').waitFor({ state: 'detached' });
    // The run recorded its own end (no error), and its approval left the inbox: the badge is gone.
    await user.byTestId('inbox-badge').waitFor({ state: 'detached' });
    expect(await user.byTestId('run-error').count()).toBe(0);
    await user.screenshot('run-cancelled');

    const recorded = await waitForExecution(stack, await api(), executionId);
    expect(recorded.status).toBe('cancelled');
    expect(recorded.cancelledBy).toBe(`user:${userId}`);
    expect(recorded.nodes.find((n: { nodeId: string }) => n.nodeId === 'done')?.status).not.toBe('succeeded');

    await user.byTestId('nav-workflows').click();
    await row(beta).locator('.status', { hasText: 'cancelled' }).waitFor();
  });

  test('the Export tab builds the saved version into a wheel, follows the build and downloads it', async () => {
    const beta = ids['Beta review'] as string;
    await row(beta).getByTestId('workflow-link').click();
    await user.page.locator('[data-testid="workflow-version"]', { hasText: 'v1' }).waitFor();
    await user.byTestId('tab-export').click();
    await user.byTestId('export-panel').getByText('No exports yet.').waitFor();
    await user.byTestId('start-export').click();
    const rowLocator = user.page.locator('[data-testid^="export-row-"]');
    await user.expectCount(rowLocator, 1);
    const exportId = ((await rowLocator.getAttribute('data-testid')) as string).replace('export-row-', '');
    await user.page.locator(`[data-testid="export-row-${exportId}"][data-status="succeeded"]`).waitFor({ timeout: 120_000 });
    const recorded = await stack.request('GET', `/api/v1/exports/${exportId}`, { token: (await api()).token });
    expect(recorded.body).toMatchObject({ status: 'succeeded', workflowVersion: 1, wheelFile: 'tessera_beta_review-1-py3-none-any.whl' });
    expect(await rowLocator.getByTestId('export-wheel').textContent()).toBe(recorded.body.wheelFile);
    await user.screenshot('export-succeeded');

    const [download] = await Promise.all([user.page.waitForEvent('download'), rowLocator.getByTestId('download-export').click()]);
    expect(download.suggestedFilename()).toBe(recorded.body.wheelFile);
    const saved = path.join(dataDir, 'downloaded.whl');
    await download.saveAs(saved);
    expect(createHash('sha256').update(readFileSync(saved)).digest('hex')).toBe(recorded.body.sha256);
    await user.byTestId('nav-workflows').click();
    await user.byTestId('workflow-list').waitFor();
  });

  test('leaving the editor with unsaved changes asks first; staying keeps the edit', async () => {
    const gamma = ids['Gamma triage'] as string;
    await row(gamma).getByTestId('workflow-link').click();
    await user.page.locator('[data-testid="workflow-version"]', { hasText: 'v1' }).waitFor();
    await user.byTestId('workflow-name').fill('Gamma, edited');
    await user.byTestId('unsaved').waitFor();

    const messages: string[] = [];
    user.page.once('dialog', (dialog) => {
      messages.push(dialog.message());
      void dialog.dismiss();
    });
    await user.byTestId('nav-workflows').click();
    await user.settle();
    expect(messages).toEqual(['This workflow has unsaved changes. Leave without saving?']);
    expect(user.page.url()).toBe(`${stack.baseUrl}/workflows/${gamma}`);
    expect(await user.byTestId('workflow-name').inputValue()).toBe('Gamma, edited');
    await user.byTestId('unsaved').waitFor();
    await user.screenshot('unsaved-stayed');
  });

  test('an expired access token is refreshed on the next request: the unsaved rename is saved, the page stays', async () => {
    const gamma = ids['Gamma triage'] as string;
    const before = await storedAccessToken();
    expect(before).toBeTruthy();
    // Wait out the token's life, then save the edit made in the previous test.
    await user.page.waitForTimeout((ACCESS_TOKEN_TTL_SECONDS + 1) * 1000);
    const expired = await stack.request('GET', '/api/v1/auth/me', { token: before as string });
    expect(expired.status).toBe(401);

    // A new name alone renames the workflow without making a version.
    await user.save();
    await user.page.locator('[data-testid="notice"]', { hasText: 'renamed to Gamma, edited' }).waitFor();
    expect(await user.byTestId('workflow-version').textContent()).toBe('v1');
    expect(user.page.url()).toBe(`${stack.baseUrl}/workflows/${gamma}`);
    expect(await user.byTestId('workflow-name').inputValue()).toBe('Gamma, edited');
    const after = await storedAccessToken();
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    const saved = await stack.request('GET', `/api/v1/workflows/${gamma}`, { token: (await api()).token });
    expect(saved.body).toMatchObject({ name: 'Gamma, edited', version: 1 });

    // Leaving after the save needs no confirmation.
    let asked = false;
    user.page.once('dialog', (dialog) => {
      asked = true;
      void dialog.dismiss();
    });
    await user.byTestId('nav-workflows').click();
    await user.byTestId('workflow-list').waitFor();
    expect(asked).toBe(false);
    user.page.removeAllListeners('dialog');
    await user.screenshot('saved-after-refresh');
  });

  test('signing out ends the session: the app shows the login page and the refresh token is dead', async () => {
    const refreshToken = (await user.page.evaluate("JSON.parse(localStorage.getItem('tessera.session') ?? '{}').refreshToken")) as string | undefined;
    expect(refreshToken).toBeTruthy();
    await user.byTestId('logout').click();
    await user.byTestId('auth-submit').waitFor();
    expect(await user.page.evaluate("localStorage.getItem('tessera.session')")).toBeNull();
    const reuse = await stack.request('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
    expect(reuse.status).toBe(401);
    await user.open('/workflows');
    await user.byTestId('auth-submit').waitFor();
    await user.screenshot('signed-out');
  });

  test('an email in two teams chooses the team at sign-in, and sees only that team', async () => {
    const second = await stack.request('POST', '/api/v1/auth/register', {
      body: { tenantName: `Second team ${randomBytes(3).toString('hex')}`, email, password: PASSWORD, name: 'Lee again' },
    });
    expect(second.status).toBe(201);
    await user.open('/login');
    await user.byTestId('auth-email').fill(email);
    await user.byTestId('auth-password').fill(PASSWORD);
    await user.byTestId('auth-submit').click();
    await user.byTestId('auth-tenant-slug').waitFor();
    expect(await user.byTestId('auth-error').textContent()).toContain('several teams');
    const offered = await user.byTestId('auth-tenant-slug').locator('option').allTextContents();
    expect(offered).toEqual([tenantSlug, second.body.tenant.slug].sort());
    await user.byTestId('auth-tenant-slug').selectOption(second.body.tenant.slug);
    await user.screenshot('choose-team');
    await user.byTestId('auth-submit').click();
    await user.byTestId('workflow-list').waitFor();
    expect(await user.byTestId('session-tenant').textContent()).toBe(second.body.tenant.name);
    await user.byTestId('workflow-list').getByText('No workflows yet.').waitFor();
    expect(await user.page.locator('[data-testid^="workflow-row-"]').count()).toBe(0);
    await user.screenshot('second-team');
  });
});
