// The Runs page: each row names its workflow, status, trigger, duration, readable error, tokens and cost; the
// filter form sends its fields; a row opens the run on its canvas; "Load older runs" follows the cursor.
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import { answer, api, resetApi } from '../testing/api-client-mock';
import RunsView from './RunsView.vue';

vi.mock('../api/client', () => import('../testing/api-client-mock'));

const base = { workflowId: 'w1', workflowVersion: 2, inputs: {}, outputs: null, startedBy: 'u', trigger: { type: 'manual' }, cancelledBy: null, temporal: { workflowId: 't', runId: null, uiUrl: '' } };
const ok = { ...base, id: 'r-ok', workflowName: 'Digest', status: 'succeeded', error: null, usage: { inputTokens: 1000, outputTokens: 500, totalTokens: 1500 }, costUsd: 0.007, createdAt: '2026-03-01T10:00:00.000Z', startedAt: '2026-03-01T10:00:00.000Z', finishedAt: '2026-03-01T10:00:01.500Z' };
const bad = { ...base, id: 'r-bad', workflowId: 'w2', workflowName: 'Locked out', status: 'failed', error: { code: 'PROVIDER_ERROR', message: 'OpenAI API answered 401: Incorrect API key provided', nodeId: 'ask' }, usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 }, costUsd: null, trigger: { type: 'schedule', scheduleId: 's' }, createdAt: '2026-03-01T09:00:00.000Z', startedAt: '2026-03-01T09:00:00.000Z', finishedAt: '2026-03-01T09:00:00.250Z' };

async function mountPage() {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:any(.*)*', component: { template: '<div />' } }] });
  await router.push('/runs');
  answer({ items: [ok, bad], nextCursor: 'c1' }, { items: [{ id: 'w1', name: 'Digest' }, { id: 'w2', name: 'Locked out' }] });
  const w = mount(RunsView, { global: { plugins: [router] } });
  await flushPromises();
  return { w, router };
}

beforeEach(() => {
  setActivePinia(createPinia());
  resetApi();
});

describe('RunsView', () => {
  test('shows each run with its duration, readable error, tokens and cost', async () => {
    const { w } = await mountPage();
    const okRow = w.find('[data-testid="runs-row-r-ok"]');
    expect(okRow.text()).toContain('Digest');
    expect(okRow.find('[data-testid="runs-duration"]').text()).toBe('1.50 s');
    expect(okRow.find('[data-testid="runs-cost"]').text()).toBe('$0.0070');
    expect(okRow.text()).toContain((1500).toLocaleString());
    const badRow = w.find('[data-testid="runs-row-r-bad"]');
    expect(badRow.find('[data-testid="runs-status-cell"]').text()).toBe('failed');
    expect(badRow.find('[data-testid="runs-error-cell"]').text()).toBe('At ask: The model provider refused the call: OpenAI API answered 401: Incorrect API key provided.');
    expect(badRow.find('[data-testid="runs-duration"]').text()).toBe('250 ms');
    expect(badRow.find('[data-testid="runs-cost"]').text()).toBe('no price');
    expect(badRow.text()).toContain('schedule');
    expect(w.findAll('[data-testid="runs-workflow"] option').map((o) => o.text())).toEqual(['All workflows', 'Digest', 'Locked out']);
  });

  test('filters by what the form says and follows the cursor for older runs', async () => {
    const { w } = await mountPage();
    await w.find('[data-testid="runs-workflow"]').setValue('w2');
    await w.find('[data-testid="runs-status"]').setValue('failed');
    await w.find('[data-testid="runs-trigger"]').setValue('schedule');
    answer({ items: [bad], nextCursor: null });
    await w.find('[data-testid="runs-filter"]').trigger('submit');
    await flushPromises();
    expect(api.calls.at(-1)?.path).toBe('/api/v1/executions?limit=50&workflowId=w2&status=failed&trigger=schedule');
    expect(w.findAll('tbody tr.run-row')).toHaveLength(1);
    expect(w.find('[data-testid="runs-more"]').exists()).toBe(false);
  });

  test('"Load older runs" reads the next page; a row opens the run view', async () => {
    const { w, router } = await mountPage();
    answer({ items: [{ ...ok, id: 'r-old' }], nextCursor: null });
    await w.find('[data-testid="runs-more"]').trigger('click');
    await flushPromises();
    expect(api.calls.at(-1)?.path).toBe('/api/v1/executions?limit=50&cursor=c1');
    expect(w.find('[data-testid="runs-row-r-old"]').exists()).toBe(true);
    await w.find('[data-testid="runs-row-r-bad"]').trigger('click');
    await flushPromises();
    expect(router.currentRoute.value.fullPath).toBe('/workflows/w2/runs/r-bad');
  });
});
