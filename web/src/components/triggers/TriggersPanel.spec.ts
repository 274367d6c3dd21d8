// The Triggers tab: schedules with their coming runs and actions, the two-step form (timing, then the run's
// inputs), webhooks with a secret shown once, and a read-only view for viewers.
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { answer, api, resetApi } from '../../testing/api-client-mock';
import { describeSchedule, signingExample } from './trigger-text';
import TriggersPanel from './TriggersPanel.vue';

vi.mock('../../api/client', () => import('../../testing/api-client-mock'));

const schedule = {
  id: 's1',
  workflowId: 'w1',
  spec: { cron: '0 9 * * 1', timezone: 'Europe/Paris' },
  inputs: { topic: 'news' },
  paused: false,
  nextRunAt: '2026-12-07T08:00:00.000Z',
  nextRunTimes: ['2026-12-07T08:00:00.000Z', '2026-12-14T08:00:00.000Z', '2026-12-21T08:00:00.000Z'],
  createdAt: '2026-12-02T09:00:00.000Z',
};
const hook = { id: 'h1', workflowId: 'w1', url: 'http://localhost:3000/hooks/h1', createdAt: '2026-12-02T09:00:00.000Z' };

function mountPanel(props: Record<string, unknown> = {}) {
  return mount(TriggersPanel, {
    props: { workflowId: 'w1', canEdit: true, dirty: false, inputs: { topic: { type: 'string', required: true } }, ...props },
    attachTo: document.body,
  });
}

beforeEach(() => {
  setActivePinia(createPinia());
  resetApi();
});

describe('TriggersPanel', () => {
  test('lists schedules with their coming runs and webhooks', async () => {
    answer({ schedules: [schedule] }, { webhooks: [hook] });
    const w = mountPanel();
    await flushPromises();
    expect(w.find('[data-testid="schedule-spec"]').text()).toBe('cron 0 9 * * 1 (Europe/Paris)');
    expect(w.findAll('[data-testid="schedule-next-runs"] li')).toHaveLength(3);
    expect(w.find('[data-testid="schedule-next-runs"] time').attributes('datetime')).toBe('2026-12-07T08:00:00.000Z');
    expect(w.find('[data-testid="schedule-inputs"]').text()).toContain('"topic":"news"');
    expect(w.find('[data-testid="webhook-url"]').text()).toBe(hook.url);
    w.unmount();
  });

  test('a new schedule takes its timing, then the inputs of every run', async () => {
    answer({ schedules: [] }, { webhooks: [] });
    const w = mountPanel();
    await flushPromises();
    await w.find('[data-testid="schedule-kind-interval"]').setValue(true);
    await w.find('[data-testid="schedule-interval"]').setValue('90');
    await w.find('[data-testid="schedule-form"]').trigger('submit');
    expect(w.find('[data-testid="run-inputs"] h3').text()).toBe('Inputs of every scheduled run');
    await w.find('[data-testid="run-input-topic"]').setValue('weather');
    answer({ ...schedule, id: 's2', spec: { intervalSeconds: 90 }, inputs: { topic: 'weather' } });
    await w.find('[data-testid="run-inputs"]').trigger('submit');
    await flushPromises();
    expect(api.calls.at(-1)).toEqual({ method: 'POST', path: '/api/v1/workflows/w1/schedules', body: { intervalSeconds: 90, inputs: { topic: 'weather' } } });
    expect(w.find('[data-testid="schedule-s2"] [data-testid="schedule-spec"]').text()).toBe('every 90 s');
    expect(w.find('[data-testid="triggers-notice"]').text()).toContain('next run');
    w.unmount();
  });

  test('an empty cron is refused in the form, before any request', async () => {
    answer({ schedules: [] }, { webhooks: [] });
    const w = mountPanel({ inputs: {} });
    await flushPromises();
    await w.find('[data-testid="schedule-cron"]').setValue('  ');
    await w.find('[data-testid="schedule-form"]').trigger('submit');
    expect(w.find('[data-testid="triggers-error"]').text()).toContain('cron expression');
    expect(api.calls).toHaveLength(2);
    w.unmount();
  });

  test('pause and run now call the API; the paused schedule says no run is planned', async () => {
    answer({ schedules: [schedule] }, { webhooks: [] });
    const w = mountPanel();
    await flushPromises();
    answer({ ...schedule, paused: true, nextRunAt: null, nextRunTimes: [] });
    await w.find('[data-testid="schedule-toggle"]').trigger('click');
    await flushPromises();
    expect(api.calls.at(-1)).toEqual({ method: 'PATCH', path: '/api/v1/schedules/s1', body: { paused: true } });
    expect(w.find('[data-testid="schedule-paused"]').exists()).toBe(true);
    expect(w.find('[data-testid="schedule-no-next"]').text()).toContain('while paused');
    expect(w.find('[data-testid="schedule-toggle"]').text()).toContain('Resume');
    answer(null);
    await w.find('[data-testid="schedule-trigger"]').trigger('click');
    await flushPromises();
    expect(api.calls.at(-1)).toEqual({ method: 'POST', path: '/api/v1/schedules/s1/trigger' });
    w.unmount();
  });

  test('a new webhook shows its URL, secret and a signing example once', async () => {
    answer({ schedules: [] }, { webhooks: [] });
    const w = mountPanel();
    await flushPromises();
    answer({ id: 'h2', workflowId: 'w1', url: 'http://localhost:3000/hooks/h2', createdAt: hook.createdAt, secret: 'whsec_abc' });
    await w.find('[data-testid="webhook-create"]').trigger('click');
    await flushPromises();
    expect((w.find('[data-testid="webhook-secret"]').element as HTMLInputElement).value).toBe('whsec_abc');
    expect(w.find('[data-testid="webhook-example"]').text()).toContain("curl -X POST 'http://localhost:3000/hooks/h2?wait=10'");
    await w.find('[data-testid="webhook-secret-done"]').trigger('click');
    expect(w.find('[data-testid="webhook-secret-box"]').exists()).toBe(false);
    expect(w.html()).not.toContain('whsec_abc');
    expect(w.find('[data-testid="webhook-h2"]').exists()).toBe(true);
    w.unmount();
  });

  test('viewers see the lists without any action', async () => {
    answer({ schedules: [schedule] }, { webhooks: [hook] });
    const w = mountPanel({ canEdit: false });
    await flushPromises();
    expect(w.find('[data-testid="schedule-s1"]').exists()).toBe(true);
    for (const id of ['schedule-toggle', 'schedule-trigger', 'schedule-delete', 'schedule-form', 'webhook-create', 'webhook-delete']) {
      expect(w.find(`[data-testid="${id}"]`).exists()).toBe(false);
    }
    w.unmount();
  });
});

describe('trigger texts', () => {
  test('a schedule reads in the largest whole unit', () => {
    expect(describeSchedule({ intervalSeconds: 45 })).toBe('every 45 s');
    expect(describeSchedule({ intervalSeconds: 120 })).toBe('every 2 min');
    expect(describeSchedule({ intervalSeconds: 7200 })).toBe('every 2 h');
    expect(describeSchedule({ intervalSeconds: 172_800 })).toBe('every 2 d');
    expect(describeSchedule({ cron: '*/5 * * * *', timezone: 'UTC' })).toBe('cron */5 * * * * (UTC)');
  });

  test('the signing example signs the raw body with the secret', () => {
    const text = signingExample('http://h/hooks/1');
    expect(text).toContain('openssl dgst -sha256 -hmac "$SECRET"');
    expect(text).toContain('X-Tessera-Signature: sha256=$SIG');
  });
});
