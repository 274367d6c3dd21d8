// The templates gallery in Debian's Chromium against the real stack (issue 13): a new team's empty list points
// to the templates; each template can be read, opened in one click and run to the end offline with echo —
// the research flow through its approval in the Inbox, the support triage down its billing branch (the other
// branch skipped), SystemCrafter's seven stages into one dossier. The gallery passes axe-core; a viewer reads
// templates but cannot use them. Screenshots go to test-artifacts/e2e-templates/.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startTestStack, type TestStack } from '../support/stack';
import { expectAccessible } from './accessibility';
import { launchChromium } from './chromium';
import { SettingsPage } from './pages/SettingsPage';
import { ensureWebBuilt } from './web-build';

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e-templates');
const PASSWORD = 'correct horse battery';

jest.setTimeout(180_000);

let stack: TestStack;
let browser: Browser;
let user: SettingsPage;
const email = `templates-${randomBytes(4).toString('hex')}@example.com`;

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  const webDir = ensureWebBuilt();
  stack = await startTestStack({ webDir });
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  user = new SettingsPage(await context.newPage(), stack.baseUrl, path.join(ARTIFACTS, 'builder'));
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function runStatus(status: string): Promise<void> {
  await user.page.locator('[data-testid="run-status"]', { hasText: status }).waitFor();
}

describe('the templates gallery', () => {
  test('the empty list leads to the gallery, which passes axe', async () => {
    await user.register(`Templates ${randomBytes(3).toString('hex')}`, email, PASSWORD);
    await user.byTestId('empty-templates-link').click();
    await user.byTestId('templates-page').waitFor();
    expect(await user.title()).toBe('Templates — Tessera');
    for (const id of ['research-write-review', 'support-triage', 'system-crafter']) await user.byTestId(`template-${id}`).waitFor();
    await user.byTestId('template-read-system-crafter').click();
    await user.byTestId('template-details-system-crafter').getByText('Agent · architecture').waitFor();
    await user.screenshot('gallery');
    await expectAccessible(user.page, 'the templates gallery');
    await user.byTestId('theme-dark').click();
    await user.screenshot('gallery-dark');
    await expectAccessible(user.page, 'the templates gallery (dark)');
    await user.byTestId('theme-light').click();
  });

  test('research → write → review → approve runs to "published" once approved in the Inbox', async () => {
    const workflowId = await user.useTemplate('research-write-review');
    // A template is valid as it opens: Run is enabled and gives no reason to wait.
    await user.page.locator('[data-testid="run"]:not([disabled])').waitFor();
    await expect(user.byTestId('run-blocked-reason').count()).resolves.toBe(0);
    await user.screenshot('research-opened');
    await user.startRun({});
    await user.waitForNodeStatus('approve', 'waiting');
    await user.byTestId('nav-inbox').click();
    await user.byTestId('approval-title').getByText('Publish the article on how durable execution keeps AI agents reliable?').waitFor();
    await user.byTestId('approve').click();
    await user.byTestId('inbox-decided').waitFor();
    await user.page.goBack();
    await user.waitForNodeStatus('published', 'succeeded');
    await runStatus('succeeded');
    expect(await user.nodeStatus('rejected')).toBe('skipped');
    await user.byTestId('run-outputs').getByText('Write a 300-word article for engineering managers', { exact: false }).waitFor();
    await user.screenshot('research-succeeded');
    expect(user.page.url()).toContain(`/workflows/${workflowId}/runs/`);
  });

  test('the support triage takes the billing branch and skips the other', async () => {
    await user.useTemplate('support-triage');
    await user.startRun({});
    await runStatus('succeeded');
    await user.waitForNodeStatus('billing_out', 'succeeded');
    expect(await user.nodeStatus('general_reply')).toBe('skipped');
    expect(await user.nodeStatus('general_out')).toBe('skipped');
    await user.byTestId('run-outputs').getByText('Routed to billing.', { exact: false }).waitFor();
    await user.screenshot('triage-succeeded');
  });

  test('SystemCrafter runs its seven stages into one dossier', async () => {
    await user.useTemplate('system-crafter');
    await user.startRun({ idea: 'a library loan tracker' });
    await runStatus('succeeded');
    for (const stage of ['requirements', 'architecture', 'api', 'database', 'backend', 'frontend', 'qa', 'dossier', 'deliverable']) {
      expect(await user.nodeStatus(stage)).toBe('succeeded');
    }
    await user.byTestId('run-outputs').getByText('# qa', { exact: false }).waitFor();
    await user.byTestId('run-outputs').getByText('a library loan tracker', { exact: false }).first().waitFor();
    await user.screenshot('crafter-succeeded');
  });

  test('the list now shows the three workflows; a viewer reads templates but cannot use them', async () => {
    await user.byTestId('nav-workflows').click();
    for (const name of ['Research, write, review, approve', 'Support triage', 'SystemCrafter pipeline']) {
      await user.byTestId('workflow-list').getByText(name).waitFor();
    }
    const viewerEmail = `viewer-${randomBytes(4).toString('hex')}@example.com`;
    const login = await stack.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
    const added = await stack.request('POST', '/api/v1/users', { token: login.body.accessToken, body: { email: viewerEmail, password: PASSWORD, role: 'viewer' } });
    expect(added.status).toBe(201);
    const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
    try {
      const viewer = new SettingsPage(await context.newPage(), stack.baseUrl, path.join(ARTIFACTS, 'viewer'));
      await viewer.login(viewerEmail, PASSWORD);
      await viewer.byTestId('nav-templates').click();
      await viewer.byTestId('templates-readonly').waitFor();
      await expect(viewer.byTestId('template-use-support-triage').count()).resolves.toBe(0);
      await viewer.screenshot('viewer-gallery-800x600');
      await expectAccessible(viewer.page, 'the templates gallery for a viewer at 800×600');
    } finally {
      await context.close();
    }
  });
});
