// The triggers store: what it sends the API for a workflow's schedules and webhooks, and how the lists follow.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { answer, api, resetApi } from '../testing/api-client-mock';
import { useTriggersStore } from './triggers';

vi.mock('../api/client', () => import('../testing/api-client-mock'));

const schedule = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  workflowId: 'w1',
  spec: { intervalSeconds: 60 },
  inputs: {},
  paused: false,
  nextRunAt: '2026-12-02T10:00:00.000Z',
  nextRunTimes: ['2026-12-02T10:00:00.000Z', '2026-12-02T10:01:00.000Z'],
  createdAt: '2026-12-02T09:00:00.000Z',
  ...extra,
});
const hook = (id: string) => ({ id, workflowId: 'w1', url: `http://localhost:3000/hooks/${id}`, createdAt: '2026-12-02T09:00:00.000Z' });

beforeEach(() => {
  setActivePinia(createPinia());
  resetApi();
});

describe('useTriggersStore', () => {
  test('loads both lists of the workflow, creates, pauses, fires and deletes schedules', async () => {
    const store = useTriggersStore();
    answer({ schedules: [schedule('s1')] }, { webhooks: [hook('h1')] });
    await store.load('w1');
    expect(store.schedules.map((s) => s.id)).toEqual(['s1']);
    expect(store.webhooks.map((h) => h.id)).toEqual(['h1']);

    answer(schedule('s2', { spec: { cron: '0 9 * * 1', timezone: 'Europe/Paris' }, inputs: { topic: 'x' } }));
    await store.createSchedule({ cron: '0 9 * * 1', timezone: 'Europe/Paris', inputs: { topic: 'x' } });
    answer(schedule('s1', { paused: true, nextRunAt: null, nextRunTimes: [] }));
    await store.setPaused('s1', true);
    answer(null);
    await store.triggerNow('s2');
    answer(null);
    await store.removeSchedule('s2');

    expect(api.calls).toEqual([
      { method: 'GET', path: '/api/v1/workflows/w1/schedules' },
      { method: 'GET', path: '/api/v1/workflows/w1/webhooks' },
      { method: 'POST', path: '/api/v1/workflows/w1/schedules', body: { cron: '0 9 * * 1', timezone: 'Europe/Paris', inputs: { topic: 'x' } } },
      { method: 'PATCH', path: '/api/v1/schedules/s1', body: { paused: true } },
      { method: 'POST', path: '/api/v1/schedules/s2/trigger' },
      { method: 'DELETE', path: '/api/v1/schedules/s2' },
    ]);
    expect(store.schedules).toEqual([schedule('s1', { paused: true, nextRunAt: null, nextRunTimes: [] })]);
  });

  test('a new webhook shows its secret until dismissed; the list never keeps it', async () => {
    const store = useTriggersStore();
    answer({ schedules: [] }, { webhooks: [] });
    await store.load('w1');
    answer({ ...hook('h2'), secret: 's3cr3t' });
    await store.createWebhook();
    expect(store.revealed).toEqual({ ...hook('h2'), secret: 's3cr3t' });
    expect(store.webhooks).toEqual([hook('h2')]);
    store.dismissSecret();
    expect(store.revealed).toBeNull();

    answer({ ...hook('h3'), secret: 'other' }, null);
    await store.createWebhook();
    await store.removeWebhook('h3');
    expect(store.revealed).toBeNull();
    expect(store.webhooks).toEqual([hook('h2')]);
    expect(api.calls.slice(-3).map((c) => [c.method, c.path])).toEqual([
      ['POST', '/api/v1/workflows/w1/webhooks'],
      ['POST', '/api/v1/workflows/w1/webhooks'],
      ['DELETE', '/api/v1/webhooks/h3'],
    ]);
  });

  test('opening another workflow forgets the last one, and a slower earlier load does not overwrite it', async () => {
    const store = useTriggersStore();
    let releaseFirst: (v: unknown) => void = () => undefined;
    api.answers.push(() => new Promise((r) => (releaseFirst = r)), () => Promise.resolve({ webhooks: [hook('old')] }));
    const first = store.load('w1');
    answer({ schedules: [schedule('new')] }, { webhooks: [] });
    await store.load('w2');
    releaseFirst({ schedules: [schedule('old')] });
    await first;
    expect(store.workflowId).toBe('w2');
    expect(store.schedules.map((s) => s.id)).toEqual(['new']);
    expect(store.webhooks).toEqual([]);
  });

  test('creating without an open workflow is refused before any request', async () => {
    const store = useTriggersStore();
    await expect(store.createWebhook()).rejects.toThrow('no workflow is open');
    expect(api.calls).toEqual([]);
  });
});
