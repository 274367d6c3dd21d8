// Settings in Debian's Chromium against the real stack (issue 13): a newcomer whose agent fails for want of a
// key follows the error's link to Settings · Credentials, adds an OpenAI-compatible credential pointed at the
// fake provider, picks it in the agent and sees the answer; rotates it; adds a member who then signs in and
// sees Settings read-only; creates an API key (shown once), uses it with fetch, revokes it and is refused; reads
// the audit log filtered. Every page passes axe-core with no serious or critical violation, in light and dark.
// Screenshots go to test-artifacts/e2e-settings/.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { startFakeLlmServer, type FakeLlmServer } from '../fake-llm/server';
import { singleAgentGraph } from '../fixtures/graphs';
import { createWorkflow, type TestSession } from '../support/session';
import { startTestStack, type TestStack } from '../support/stack';
import { expectAccessible } from './accessibility';
import { launchChromium } from './chromium';
import { SettingsPage } from './pages/SettingsPage';
import { ensureWebBuilt } from './web-build';

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e-settings');
const PASSWORD = 'correct horse battery';

// Each step waits for a state; this budget is for a busy machine running the browser, API and worker at once.
jest.setTimeout(180_000);

let stack: TestStack;
let fake: FakeLlmServer;
let browser: Browser;
let context: BrowserContext;
let owner: SettingsPage;
const ownerEmail = `settings-${randomBytes(4).toString('hex')}@example.com`;
const memberEmail = `member-${randomBytes(4).toString('hex')}@example.com`;
let session: TestSession;
let workflowId = '';

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  const webDir = ensureWebBuilt();
  fake = await startFakeLlmServer();
  // No server or key configured for openai: only a credential's base URL and secret reach the fake provider.
  stack = await startTestStack({ webDir, providers: { openai: {}, anthropic: {} } });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  owner = new SettingsPage(await context.newPage(), stack.baseUrl, path.join(ARTIFACTS, 'owner'));
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await fake?.close();
});

async function apiLogin(email: string): Promise<TestSession> {
  const res = await stack.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
  expect(res.status).toBe(200);
  return { token: res.body.accessToken, refreshToken: res.body.refreshToken, tenantId: res.body.tenant.id, userId: res.body.user.id, email };
}

describe('Settings in the browser', () => {
  test('sign-up says why a short password is refused, then the empty list says what to do', async () => {
    await owner.open('/login');
    await owner.byTestId('auth-mode-register').click();
    await owner.byTestId('auth-tenant-name').fill(`Settings ${randomBytes(3).toString('hex')}`);
    await owner.byTestId('auth-email').fill(ownerEmail);
    await owner.byTestId('auth-password').fill('short');
    await owner.byTestId('auth-submit').click();
    await owner.page.locator('[data-testid="auth-error"]', { hasText: 'Password: the password needs at least 8 characters.' }).waitFor();
    await owner.screenshot('short-password');

    await owner.byTestId('auth-password').fill(PASSWORD);
    await owner.byTestId('auth-submit').click();
    await owner.byTestId('workflow-list').waitFor();
    await owner.byTestId('workflows-empty').getByText('Start from a template').waitFor();
    expect(await owner.title()).toBe('Workflows — Tessera');
    await expectAccessible(owner.page, 'the empty workflows list');
    session = await apiLogin(ownerEmail);
  });

  test('a failed agent links to Credentials; an OpenAI-compatible credential added there makes it answer', async () => {
    fake.script('gateway-model', { text: 'Hello from the local gateway' });
    workflowId = await createWorkflow(stack, session, singleAgentGraph({ provider: 'openai', model: 'gateway-model' }), 'Gateway flow');
    await owner.open(`/workflows/${workflowId}`);
    await owner.byTestId('canvas').waitFor();
    await owner.startRun({});
    await owner.waitForNodeStatus('ask', 'failed');
    await owner.node('ask').locator('.tnode-head').click();
    await owner.byTestId('run-node-error').getByText('No OpenAI API key').waitFor();
    await owner.screenshot('failed-without-key');
    await owner.byTestId('credentials-page-link').click();
    await owner.byTestId('credentials-page').waitFor();
    expect(await owner.title()).toBe('Settings · Credentials — Tessera');

    await owner.addCredential('openai-compatible', 'Local gateway', 'sk-e2e-first', fake.openaiBaseURL);
    await owner.byTestId('credentials-notice').getByText('Added “Local gateway”').waitFor();
    await owner.credentialRow('Local gateway').getByTestId('credential-row-base-url').getByText(fake.openaiBaseURL).waitFor();
    await owner.screenshot('credential-added');
    await expectAccessible(owner.page, 'Settings · Credentials');

    await owner.open(`/workflows/${workflowId}`);
    await owner.byTestId('canvas').waitFor();
    await owner.selectNode('ask');
    await owner.byTestId('field-credentialId').locator('option', { hasText: 'Local gateway' }).waitFor({ state: 'attached' });
    // An OpenAI-compatible credential is offered with its server beside its name.
    await owner.byTestId('field-credentialId').selectOption({ label: `Local gateway (${fake.openaiBaseURL})` });
    await expect(owner.byTestId('agent-no-credentials').count()).resolves.toBe(0);
    await owner.save();
    await owner.startRun({});
    await owner.waitForNodeStatus('ask', 'succeeded');
    await owner.page.locator('[data-testid="run-status"]', { hasText: 'succeeded' }).waitFor();
    await owner.byTestId('run-outputs').getByText('Hello from the local gateway').waitFor();
    expect(fake.callsFor('gateway-model').map((c) => c.apiKey)).toEqual(['sk-e2e-first']);
    await owner.screenshot('answered-through-credential');
  });

  test('the credential shows where it is used and rotates in place', async () => {
    await owner.openSettings('credentials');
    const row = owner.credentialRow('Local gateway');
    await row.getByTestId('credential-used-by').getByText('Gateway flow').waitFor();
    await row.getByTestId('credential-rotate').click();
    await row.getByTestId('credential-new-secret').fill('sk-e2e-second');
    await row.getByTestId('credential-rotate-save').click();
    await owner.byTestId('credentials-notice').getByText('Rotated “Local gateway”').waitFor();
    await row.getByText('never').waitFor({ state: 'detached' });
    await owner.screenshot('credential-rotated');
  });

  test('members: add one, change a role, see the API refuse to demote the last owner, and the member signs in', async () => {
    await owner.openSettings('members');
    expect(await owner.title()).toBe('Settings · Members — Tessera');
    await owner.byTestId('member-rules').getByText('at least one owner').waitFor();
    await owner.addMember(memberEmail, PASSWORD, 'editor');
    await owner.memberRow(memberEmail).getByTestId('member-row-role').selectOption('viewer');
    await owner.byTestId('members-notice').getByText(`${memberEmail} is now viewer.`).waitFor();
    await owner.memberRow(ownerEmail).getByTestId('member-row-role').selectOption('editor');
    await owner.byTestId('members-error').getByText('a tenant needs at least one owner').waitFor();
    expect(await owner.memberRow(ownerEmail).getByTestId('member-row-role').inputValue()).toBe('owner');
    await owner.screenshot('members');
    await expectAccessible(owner.page, 'Settings · Members');

    const memberContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const member = new SettingsPage(await memberContext.newPage(), stack.baseUrl, path.join(ARTIFACTS, 'member'));
      await member.login(memberEmail, PASSWORD);
      expect(await member.byTestId('session-role').textContent()).toBe('viewer');
      await member.byTestId('workflow-list').getByText('Gateway flow').waitFor();
      await member.openSettings('members');
      await member.byTestId('members-forbidden').waitFor();
      await member.openSettings('credentials');
      await member.byTestId('credentials-forbidden').waitFor();
      await expect(member.byTestId('credential-form').count()).resolves.toBe(0);
      await member.screenshot('viewer-settings');
      await expectAccessible(member.page, 'Settings · Credentials for a viewer');
    } finally {
      await memberContext.close();
    }
  });

  test('an API key is shown once, works with fetch, records its last use, and is refused once revoked', async () => {
    await owner.openSettings('api-keys');
    const key = await owner.createApiKey('ci', 'viewer');
    expect(key.length).toBeGreaterThan(20);
    await owner.byTestId('api-key-example').getByText(`X-API-Key: ${key}`).waitFor();
    await owner.screenshot('api-key-shown-once');
    await expectAccessible(owner.page, 'the new API key dialog');
    await owner.byTestId('api-key-revealed-close').click();
    await owner.byTestId('api-key-revealed').waitFor({ state: 'detached' });
    await expect(owner.page.getByText(key).count()).resolves.toBe(0);
    await expect(owner.page.locator('input').evaluateAll((inputs, k) => inputs.some((i) => (i as unknown as { value: string }).value === k), key)).resolves.toBe(false);

    const used = await fetch(`${stack.baseUrl}/api/v1/workflows`, { headers: { 'X-API-Key': key } });
    expect(used.status).toBe(200);
    expect(JSON.stringify(await used.json())).toContain('Gateway flow');

    await owner.page.reload();
    await owner.byTestId('api-keys-page').waitFor();
    await expect(owner.apiKeyRow('ci').getByTestId('api-key-last-used').textContent()).resolves.not.toBe('never');
    await expectAccessible(owner.page, 'Settings · API keys');

    await owner.confirmIn(owner.apiKeyRow('ci'), 'api-key-revoke');
    await owner.apiKeyRow('ci').getByTestId('api-key-status').getByText('revoked').waitFor();
    const refused = await fetch(`${stack.baseUrl}/api/v1/workflows`, { headers: { 'X-API-Key': key } });
    expect(refused.status).toBe(401);
    await owner.screenshot('api-key-revoked');
  });

  test('the audit log filters by kind of action and names who did it', async () => {
    await owner.openSettings('audit-log');
    expect(await owner.title()).toBe('Settings · Audit log — Tessera');
    await owner.byTestId('audit-row-auth.register').waitFor();
    await owner.filterAudit('api_key');
    // The filtered page has replaced the unfiltered one once the sign-up entry is gone.
    await owner.byTestId('audit-row-auth.register').waitFor({ state: 'detached' });
    await owner.byTestId('audit-row-api_key.revoke').waitFor();
    await owner.byTestId('audit-row-api_key.create').waitFor();
    await owner.filterAudit('credential');
    await owner.byTestId('audit-row-api_key.create').waitFor({ state: 'detached' });
    await owner.byTestId('audit-row-credential.rotate').waitFor();
    await expect(owner.byTestId('audit-row-user.add').count()).resolves.toBe(0);
    await owner.byTestId('audit-row-credential.create').getByText(ownerEmail).waitFor();
    await owner.screenshot('audit-log');
    await expectAccessible(owner.page, 'Settings · Audit log');
  });

  test('every Settings page passes axe in the dark theme too', async () => {
    await owner.byTestId('theme-dark').click();
    await expect(owner.page.locator('html').getAttribute('data-theme')).resolves.toBe('dark');
    for (const section of ['credentials', 'members', 'api-keys', 'audit-log'] as const) {
      await owner.openSettings(section);
      await owner.screenshot(`dark-${section}`);
      await expectAccessible(owner.page, `Settings · ${section} (dark)`);
    }
    await owner.page.reload();
    await expect(owner.page.locator('html').getAttribute('data-theme')).resolves.toBe('dark');
    await owner.byTestId('theme-light').click();
    await expect(owner.page.locator('html').getAttribute('data-theme')).resolves.toBe('light');
  });

  test('at 800×600 the Settings pages keep everything on screen and reachable', async () => {
    await owner.page.setViewportSize({ width: 800, height: 600 });
    for (const section of ['credentials', 'members', 'api-keys', 'audit-log'] as const) {
      await owner.openSettings(section);
      // Nothing of the shell is pushed off to the right: sign-out and the theme switch stay in the window.
      for (const id of ['logout', 'theme-system', `settings-nav-${section}`]) {
        const box = await owner.byTestId(id).boundingBox();
        expect(box && box.x + box.width <= 800).toBe(true);
      }
      await owner.screenshot(`800x600-${section}`);
      await expectAccessible(owner.page, `Settings · ${section} at 800×600`);
    }
    await owner.page.setViewportSize({ width: 1280, height: 800 });
  });
});
