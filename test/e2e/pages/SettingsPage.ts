// The page object of Settings and the templates gallery: a user's steps over their data-testid hooks, on top
// of CanvasPage's (sign-in, screenshots, the canvas and runs).
import type { Locator } from 'playwright-core';
import { CanvasPage } from './CanvasPage';

export class SettingsPage extends CanvasPage {
  async openSettings(section: 'credentials' | 'members' | 'api-keys' | 'audit-log'): Promise<void> {
    await this.byTestId('nav-settings').click();
    await this.byTestId(`settings-nav-${section}`).click();
    await this.byTestId(`${section}-page`).waitFor();
  }

  async addCredential(kind: string, name: string, secret: string, baseUrl?: string): Promise<void> {
    await this.byTestId('credential-kind').selectOption(kind);
    await this.byTestId('credential-name').fill(name);
    await this.byTestId('credential-secret').fill(secret);
    if (baseUrl !== undefined) await this.byTestId('credential-base-url').fill(baseUrl);
    await this.byTestId('credential-create').click();
  }

  credentialRow(name: string): Locator {
    return this.byTestId(`credential-row-${name}`);
  }

  async addMember(email: string, password: string, role: string): Promise<void> {
    await this.byTestId('member-email').fill(email);
    await this.byTestId('member-password').fill(password);
    await this.byTestId('member-role').selectOption(role);
    await this.byTestId('member-add').click();
    await this.memberRow(email).waitFor();
  }

  memberRow(email: string): Locator {
    return this.byTestId(`member-row-${email}`);
  }

  /** Creates a key and returns it as the one-time dialog shows it, then closes the dialog. */
  async createApiKey(name: string, role: string): Promise<string> {
    await this.byTestId('api-key-name').fill(name);
    await this.byTestId('api-key-role').selectOption(role);
    await this.byTestId('api-key-create').click();
    const value = this.byTestId('api-key-value');
    await value.waitFor();
    return value.inputValue();
  }

  apiKeyRow(name: string): Locator {
    return this.byTestId(`api-key-row-${name}`);
  }

  /** Clicks a row's destructive button and confirms in the dialog. */
  async confirmIn(row: Locator, buttonTestId: string): Promise<void> {
    await row.getByTestId(buttonTestId).click();
    await this.byTestId('confirm-ok').click();
    await this.byTestId('confirm-dialog').waitFor({ state: 'detached' });
  }

  async filterAudit(action: string): Promise<void> {
    await this.byTestId('audit-action').selectOption(action);
    await this.byTestId('audit-apply').click();
  }

  async useTemplate(id: string): Promise<string> {
    await this.byTestId('nav-templates').click();
    await this.byTestId(`template-${id}`).waitFor();
    await this.byTestId(`template-read-${id}`).click();
    await this.byTestId(`template-details-${id}`).waitFor();
    await this.byTestId(`template-use-${id}`).click();
    await this.byTestId('canvas').waitFor();
    await this.page.waitForURL(/\/workflows\/[0-9a-f-]+$/);
    return this.page.url().split('/').pop() as string;
  }

  async title(): Promise<string> {
    return this.page.title();
  }
}
