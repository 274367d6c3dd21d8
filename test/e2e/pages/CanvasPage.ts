// The page object of the web app for the Playwright tests: a user's steps over the app's data-testid
// hooks, so a test reads as what the user does. Every step can leave a screenshot behind.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';

/**
 * How long one step may wait for the state it expects (an element, a status, a count). It only runs out when
 * something is broken: on a busy machine the run behind a status can take tens of seconds to get there.
 */
export const STEP_TIMEOUT_MS = 60_000;

export class CanvasPage {
  private shots = 0;

  constructor(
    readonly page: Page,
    readonly baseUrl: string,
    private readonly artifactsDir: string,
  ) {
    mkdirSync(artifactsDir, { recursive: true });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
  }

  byTestId(id: string): Locator {
    return this.page.getByTestId(id);
  }

  async screenshot(step: string): Promise<void> {
    this.shots += 1;
    const name = `${String(this.shots).padStart(2, '0')}-${step}.png`;
    await this.page.screenshot({ path: path.join(this.artifactsDir, name) });
  }

  async open(route = '/'): Promise<void> {
    await this.page.goto(`${this.baseUrl}${route}`);
  }

  async register(tenantName: string, email: string, password: string): Promise<void> {
    await this.open('/login');
    await this.byTestId('auth-mode-register').click();
    await this.byTestId('auth-tenant-name').fill(tenantName);
    await this.byTestId('auth-email').fill(email);
    await this.byTestId('auth-password').fill(password);
    await this.byTestId('auth-submit').click();
    await this.byTestId('workflow-list').waitFor();
  }

  async login(email: string, password: string): Promise<void> {
    await this.open('/login');
    await this.byTestId('auth-email').fill(email);
    await this.byTestId('auth-password').fill(password);
    await this.byTestId('auth-submit').click();
    await this.byTestId('workflow-list').waitFor();
  }

  async createWorkflow(name: string): Promise<string> {
    await this.byTestId('new-workflow-name').fill(name);
    await this.byTestId('create-workflow').click();
    await this.byTestId('canvas').waitFor();
    await this.page.waitForURL(/\/workflows\/[0-9a-f-]+$/);
    return this.page.url().split('/').pop() as string;
  }

  /** Drags a palette item onto the canvas at (x, y) relative to the canvas's top-left corner. */
  async dropNode(type: string, x: number, y: number): Promise<void> {
    await this.byTestId(`palette-${type}`).dragTo(this.byTestId('canvas'), { targetPosition: { x, y } });
  }

  node(id: string): Locator {
    return this.byTestId(`node-${id}`);
  }

  nodes(): Locator {
    return this.page.locator('.vue-flow__node');
  }

  edges(): Locator {
    return this.page.locator('.vue-flow__edge');
  }

  /** Waits until `locator` matches exactly `count` elements (the canvas renders on the next frame). */
  async expectCount(locator: Locator, count: number, timeout = STEP_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeout;
    let seen = await locator.count();
    while (seen !== count && Date.now() < deadline) {
      await this.page.waitForTimeout(50);
      seen = await locator.count();
    }
    if (seen !== count) throw new Error(`expected ${count} elements, found ${seen}`);
  }

  /**
   * Lets the canvas settle before checking that something did NOT happen: two frames, so whatever the last
   * input did has rendered however busy the machine is, then a moment for anything it started asynchronously.
   */
  async settle(): Promise<void> {
    // Source text, not a function: the test's tsconfig has no DOM types.
    await this.page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
    await this.page.waitForTimeout(300);
  }

  /** Drags from a node's out handle to another node's in handle, as a user connects two nodes. */
  async connect(source: string, target: string, handle?: string): Promise<void> {
    const from = await this.centre(this.byTestId(handle ? `handle-out-${source}-${handle}` : `handle-out-${source}`));
    const to = await this.centre(this.byTestId(`handle-in-${target}`));
    await this.page.mouse.move(from.x, from.y);
    await this.page.mouse.down();
    await this.page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 });
    await this.page.mouse.move(to.x, to.y, { steps: 5 });
    await this.page.mouse.up();
  }

  async selectNode(id: string): Promise<void> {
    await this.node(id).locator('.tnode-head').click();
    await this.byTestId('node-panel').locator('h3', { hasText: id }).waitFor();
  }

  async fillField(field: string, value: string): Promise<void> {
    await this.byTestId(`field-${field}`).fill(value);
  }

  async pressShortcut(keys: string): Promise<void> {
    // Focus the canvas first, so the keys do not land in a form field.
    await this.page.locator('.vue-flow__pane').click({ position: { x: 5, y: 5 } });
    await this.page.keyboard.press(keys);
  }

  async save(): Promise<void> {
    await this.byTestId('save').click();
    await this.byTestId('unsaved').waitFor({ state: 'detached' });
  }

  async startRun(inputs: Record<string, string>): Promise<string> {
    await this.byTestId('run').click();
    for (const [name, value] of Object.entries(inputs)) await this.byTestId(`run-input-${name}`).fill(value);
    await this.byTestId('run-start').click();
    await this.page.waitForURL(/\/runs\/[0-9a-f-]+$/);
    return this.page.url().split('/').pop() as string;
  }

  async nodeStatus(id: string): Promise<string | null> {
    return this.node(id).getAttribute('data-status');
  }

  /** Waits for a node's run status; on a timeout, says what every node showed and leaves a screenshot. */
  async waitForNodeStatus(id: string, status: string, timeout = STEP_TIMEOUT_MS): Promise<void> {
    try {
      await this.page.locator(`[data-testid="node-${id}"][data-status="${status}"]`).waitFor({ timeout });
    } catch (err) {
      await this.screenshot(`timeout-${id}-${status}`).catch(() => undefined);
      const shown = await this.page
        .locator('[data-testid^="node-"][data-status]')
        .evaluateAll((els) => els.map((el) => `${el.getAttribute('data-testid')}=${el.getAttribute('data-status') || '(none)'}`))
        .catch(() => []);
      const url = this.page.url();
      throw new Error(`node ${id} never showed ${status} at ${url}; the nodes showed: ${shown.join(', ') || 'nothing'}`, { cause: err });
    }
  }

  private async centre(locator: Locator): Promise<{ x: number; y: number }> {
    const box = await locator.boundingBox();
    if (!box) throw new Error('element is not visible');
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  }
}
