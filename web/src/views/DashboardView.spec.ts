// The dashboard: the totals, one chart per figure named by a sentence of what it shows (its accessible name),
// each with a table of the same figures; the period and workflow filters ask GET /analytics again.
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import type { AnalyticsView } from '../api/types';
import { answer, api, resetApi } from '../testing/api-client-mock';
import DashboardView from './DashboardView.vue';

vi.mock('../api/client', () => import('../testing/api-client-mock'));
// happy-dom lays nothing out, so ECharts would draw at 0×0; the browser test (test/e2e/runs-dashboard) draws them.
vi.mock('vue-echarts', () => ({ default: defineComponent({ props: { option: Object }, setup: () => () => h('div', { 'data-testid': 'echarts' }) }) }));

const view: AnalyticsView = {
  from: '2026-02-28T00:00:00.000Z',
  to: '2026-03-02T00:00:00.000Z',
  workflowId: null,
  totals: { runs: 5, inputTokens: 1010, outputTokens: 505, totalTokens: 1515, costUsd: null },
  runsPerDay: [
    { day: '2026-02-28', total: 0, byStatus: {} },
    { day: '2026-03-01', total: 5, byStatus: { succeeded: 4, failed: 1 } },
  ],
  duration: { runs: 5, p50Ms: 420, p95Ms: 1800, perDay: [{ day: '2026-03-01', runs: 5, p50Ms: 420, p95Ms: 1800 }] },
  models: [
    { provider: 'openai', model: 'priced-model', runs: 1, inputTokens: 1000, outputTokens: 500, totalTokens: 1500, costUsd: 0.007 },
    { provider: 'openai', model: 'unpriced-model', runs: 1, inputTokens: 10, outputTokens: 5, totalTokens: 15, costUsd: null },
  ],
  failingNodes: [{ workflowId: 'w2', workflowName: 'Locked out', nodeId: 'ask', nodeType: 'agent', failures: 1, lastFailedAt: '2026-03-01T09:00:00.000Z', lastError: { code: 'PROVIDER_ERROR', message: 'OpenAI API answered 401' } }],
};

async function mountPage() {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:any(.*)*', component: { template: '<div />' } }] });
  answer(view, { items: [{ id: 'w2', name: 'Locked out' }] });
  const w = mount(DashboardView, { global: { plugins: [router] } });
  await flushPromises();
  return w;
}

beforeEach(() => {
  setActivePinia(createPinia());
  resetApi();
});

describe('DashboardView', () => {
  test('shows the totals and names each chart by what it shows', async () => {
    const w = await mountPage();
    expect(api.calls[0]?.path).toMatch(/^\/api\/v1\/analytics\?from=.*&to=/);
    expect(w.find('[data-testid="total-runs"]').text()).toBe('5');
    expect(w.find('[data-testid="total-p50"]').text()).toBe('420 ms');
    expect(w.find('[data-testid="total-p95"]').text()).toBe('1.80 s');
    expect(w.find('[data-testid="total-cost"]').text()).toBe('no price');
    expect(w.find('[data-testid="chart-runs-canvas"]').attributes('aria-label')).toBe('Runs per day by status: 5 runs over 2 days (4 succeeded, 1 failed).');
    expect(w.find('[data-testid="chart-duration-canvas"]').attributes('aria-label')).toBe('Run duration: p50 420 ms, p95 1.80 s over 5 finished runs.');
    expect(w.find('[data-testid="chart-models-canvas"]').attributes('aria-label')).toBe('Tokens per model: openai/priced-model 1500 tokens, $0.0070; openai/unpriced-model 15 tokens, no price.');
    expect(w.find('[data-testid="chart-failing-canvas"]').attributes('aria-label')).toBe('Top failing nodes: ask of Locked out failed 1 times.');
    expect(w.find('[data-testid="chart-runs-canvas"]').attributes('role')).toBe('img');
    expect(w.findAll('[data-testid="echarts"]')).toHaveLength(4);
  });

  test('has the same figures as tables, with readable errors', async () => {
    const w = await mountPage();
    expect(w.findAll('[data-testid="models-table"] tbody tr').map((r) => r.findAll('td').map((c) => c.text()))).toEqual([
      ['openai/priced-model', '1', (1000).toLocaleString(), (500).toLocaleString(), '$0.0070'],
      ['openai/unpriced-model', '1', '10', '5', 'no price'],
    ]);
    const failing = w.find('[data-testid="failing-table"] tbody tr');
    expect(failing.text()).toContain('Locked out');
    expect(failing.text()).toContain('The model provider refused the call: OpenAI API answered 401.');
  });

  test('asks again for the period and workflow picked', async () => {
    const w = await mountPage();
    await w.find('[data-testid="dashboard-range"]').setValue('7');
    await w.find('[data-testid="dashboard-workflow"]').setValue('w2');
    answer({ ...view, workflowId: 'w2', totals: { ...view.totals, runs: 1 }, runsPerDay: [], models: [], failingNodes: [], duration: { runs: 0, p50Ms: null, p95Ms: null, perDay: [] } });
    await w.find('[data-testid="dashboard-filter"]').trigger('submit');
    await flushPromises();
    const q = new URLSearchParams(api.calls.at(-1)!.path.split('?')[1]);
    expect(q.get('workflowId')).toBe('w2');
    expect(new Date(q.get('to')!).getTime() - new Date(q.get('from')!).getTime()).toBe(7 * 86_400_000);
    expect(w.find('[data-testid="total-runs"]').text()).toBe('1');
    expect(w.find('[data-testid="chart-models-empty"]').text()).toBe('Tokens per model: no tokens used in this range.');
  });
});
