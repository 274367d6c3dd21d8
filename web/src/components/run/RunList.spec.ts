// The runs list says what started each run, marks a queued one, and filters by trigger through the API.
import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, test, vi } from 'vitest';
import RunList from './RunList.vue';

const requests = vi.hoisted(() => [] as string[]);
vi.mock('../../api/client', () => ({
  describeError: (err: unknown) => String(err),
  apiRequest: (_method: string, path: string) => {
    requests.push(path);
    const trigger = new URL(path, 'http://x').searchParams.get('trigger');
    const run = (id: string, type: string) => ({ id, workflowId: 'w1', workflowVersion: 2, status: 'succeeded', createdAt: '2026-12-02T09:00:00.000Z', trigger: { type } });
    const items = [run('a', 'schedule'), run('b', 'webhook'), { ...run('c', 'mcp'), status: 'pending', queued: true }].filter((r) => !trigger || r.trigger.type === trigger);
    return Promise.resolve({ items });
  },
}));

describe('RunList', () => {
  test('each row names its trigger; the filter asks the API for one kind', async () => {
    const w = mount(RunList, { props: { workflowId: 'w1' }, global: { stubs: { RouterLink: { template: '<a><slot /></a>' } } } });
    await flushPromises();
    expect(w.findAll('[data-testid="run-trigger"]').map((t) => t.text())).toEqual(['· schedule', '· webhook', '· MCP']);
    // A run waiting for a slot of the tenant's share says so.
    expect(w.findAll('[data-testid="run-queued"]').map((q) => q.element.closest('li')?.getAttribute('data-testid'))).toEqual(['run-row-c']);
    await w.find('[data-testid="run-trigger-filter"]').setValue('webhook');
    await flushPromises();
    expect(requests.at(-1)).toBe('/api/v1/executions?workflowId=w1&limit=50&trigger=webhook');
    expect(w.findAll('[data-testid^="run-row-"]').map((r) => r.attributes('data-testid'))).toEqual(['run-row-b']);
    await w.find('[data-testid="run-trigger-filter"]').setValue('retry');
    await flushPromises();
    expect(w.find('[data-testid="run-list-empty"]').text()).toBe('No runs started by retry.');
  });
});
