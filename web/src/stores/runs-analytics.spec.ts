// The Runs page's store (filter → GET /executions query, pages by cursor, only the newest read applies) and the
// dashboard's (a range of days → GET /analytics).
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { answer, api, resetApi } from '../testing/api-client-mock';
import { analyticsQuery, useAnalyticsStore } from './analytics';
import { runsQuery, useRunsStore } from './runs';

vi.mock('../api/client', () => import('../testing/api-client-mock'));

const run = (id: string) => ({ id, workflowId: 'w1', status: 'succeeded' });

beforeEach(() => {
  setActivePinia(createPinia());
  resetApi();
});

describe('runs store', () => {
  test('sends the filled-in filters, local times as instants, and leaves empty ones out', () => {
    const q = new URLSearchParams(runsQuery({ workflowId: 'w1', status: 'failed', trigger: '', from: '2026-03-01T09:30', to: '' }, null));
    expect(Object.fromEntries(q)).toEqual({ limit: '50', workflowId: 'w1', status: 'failed', from: new Date('2026-03-01T09:30').toISOString() });
    expect(new URLSearchParams(runsQuery({}, 'abc')).get('cursor')).toBe('abc');
  });

  test('loads the first page for a filter, then older pages by cursor until none is left', async () => {
    const runs = useRunsStore();
    answer({ items: [run('r1'), run('r2')], nextCursor: 'c1' }, { items: [run('r3')], nextCursor: null });
    await runs.load({ status: 'succeeded' });
    expect(api.calls[0]).toEqual({ method: 'GET', path: '/api/v1/executions?limit=50&status=succeeded' });
    expect(runs.nextCursor).toBe('c1');
    await runs.loadMore();
    expect(api.calls[1]?.path).toBe('/api/v1/executions?limit=50&status=succeeded&cursor=c1');
    expect(runs.items.map((e) => e.id)).toEqual(['r1', 'r2', 'r3']);
    expect(runs.nextCursor).toBeNull();
    await runs.loadMore();
    expect(api.calls).toHaveLength(2);
  });

  test('a filter changed while a page is on its way: only the newest answer shows', async () => {
    const runs = useRunsStore();
    let first!: (v: unknown) => void;
    api.answers.push(() => new Promise((resolve) => (first = resolve)));
    answer({ items: [run('failed-1')], nextCursor: null });
    const slow = runs.load({ status: 'succeeded' });
    await runs.load({ status: 'failed' });
    first({ items: [run('old')], nextCursor: 'stale' });
    await slow;
    expect(runs.items.map((e) => e.id)).toEqual(['failed-1']);
    expect(runs.nextCursor).toBeNull();
    expect(runs.loading).toBe(false);
  });

  test('lists the workflows by name for the filters', async () => {
    const runs = useRunsStore();
    answer({ items: [{ id: 'b', name: 'Beta' }, { id: 'a', name: 'Alpha' }] });
    await runs.loadWorkflows();
    expect(runs.workflows).toEqual([{ id: 'a', name: 'Alpha' }, { id: 'b', name: 'Beta' }]);
  });
});

describe('analytics store', () => {
  test('asks for the days before now, and for one workflow when picked', async () => {
    const now = new Date('2026-03-31T12:00:00.000Z');
    expect(Object.fromEntries(new URLSearchParams(analyticsQuery({ days: 7, workflowId: 'w1' }, now)))).toEqual({
      from: '2026-03-24T12:00:00.000Z',
      to: '2026-03-31T12:00:00.000Z',
      workflowId: 'w1',
    });
    const analytics = useAnalyticsStore();
    answer({ totals: { runs: 3 } });
    await analytics.load({ days: 30 }, now);
    expect(api.calls[0]?.path).toBe('/api/v1/analytics?from=2026-03-01T12%3A00%3A00.000Z&to=2026-03-31T12%3A00%3A00.000Z');
    expect(analytics.view?.totals.runs).toBe(3);
    expect(analytics.filter).toEqual({ days: 30 });
  });
});
