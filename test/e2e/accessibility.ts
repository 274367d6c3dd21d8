// Accessibility checks for the browser tests: axe-core over the page as the user sees it (under the API's
// CSP), failing on any serious or critical violation with each rule, its help text and the offending nodes.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/** The serious and critical violations on the page now; WCAG 2.x A/AA rules plus axe's best practices. */
export async function seriousViolations(page: Page): Promise<AxeFinding[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}

/** Fails, naming every finding, when the page has a serious or critical violation. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const found = await seriousViolations(page);
  if (found.length > 0) {
    throw new Error(`${what} has ${found.length} serious/critical accessibility violation(s):\n${found.map((f) => `- ${f.id} (${f.impact}): ${f.help} at ${f.targets.join(', ')}`).join('\n')}`);
  }
}
