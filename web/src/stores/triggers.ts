// The triggers of the workflow open in the editor (DESIGN.md §8 "Triggers and re-runs"): its schedules (cron
// in a time zone or an interval; pause, resume, fire now, delete; the coming firings as Temporal plans them)
// and its webhooks (a URL, and a secret shown once when the hook is made). Editors change them; viewers read.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CreatedWebhook, ScheduleView, WebhookView } from '../../../core/api-views';
import { apiRequest } from '../api/client';

/** A new schedule as the form gives it: exactly one of cron and intervalSeconds. */
export type NewSchedule = ({ cron: string; timezone: string } | { intervalSeconds: number }) & { inputs: Record<string, unknown>; paused?: boolean };

const path = (s: string) => encodeURIComponent(s);

export const useTriggersStore = defineStore('triggers', () => {
  const workflowId = ref<string | null>(null);
  const schedules = ref<ScheduleView[]>([]);
  const webhooks = ref<WebhookView[]>([]);
  /** The hook made last and its secret, until the person dismisses it (the API never shows it again). */
  const revealed = ref<CreatedWebhook | null>(null);

  async function load(id: string): Promise<void> {
    if (workflowId.value !== id) {
      revealed.value = null;
      schedules.value = [];
      webhooks.value = [];
    }
    workflowId.value = id;
    const [s, w] = await Promise.all([
      apiRequest<{ schedules: ScheduleView[] }>('GET', `/api/v1/workflows/${path(id)}/schedules`),
      apiRequest<{ webhooks: WebhookView[] }>('GET', `/api/v1/workflows/${path(id)}/webhooks`),
    ]);
    // A load for another workflow that started since wins.
    if (workflowId.value !== id) return;
    schedules.value = s.schedules;
    webhooks.value = w.webhooks;
  }

  function current(): string {
    if (!workflowId.value) throw new Error('no workflow is open');
    return workflowId.value;
  }

  function replace(updated: ScheduleView): void {
    schedules.value = schedules.value.map((s) => (s.id === updated.id ? updated : s));
  }

  async function createSchedule(input: NewSchedule): Promise<ScheduleView> {
    const created = await apiRequest<ScheduleView>('POST', `/api/v1/workflows/${path(current())}/schedules`, { body: input });
    schedules.value = [...schedules.value, created];
    return created;
  }

  async function setPaused(id: string, paused: boolean): Promise<void> {
    replace(await apiRequest<ScheduleView>('PATCH', `/api/v1/schedules/${path(id)}`, { body: { paused } }));
  }

  /** Fires the schedule now, outside its timing; the run shows in the runs list. */
  async function triggerNow(id: string): Promise<void> {
    await apiRequest('POST', `/api/v1/schedules/${path(id)}/trigger`);
  }

  async function removeSchedule(id: string): Promise<void> {
    await apiRequest('DELETE', `/api/v1/schedules/${path(id)}`);
    schedules.value = schedules.value.filter((s) => s.id !== id);
  }

  async function createWebhook(): Promise<CreatedWebhook> {
    const created = await apiRequest<CreatedWebhook>('POST', `/api/v1/workflows/${path(current())}/webhooks`);
    webhooks.value = [...webhooks.value, { id: created.id, workflowId: created.workflowId, url: created.url, createdAt: created.createdAt }];
    revealed.value = created;
    return created;
  }

  async function removeWebhook(id: string): Promise<void> {
    await apiRequest('DELETE', `/api/v1/webhooks/${path(id)}`);
    webhooks.value = webhooks.value.filter((h) => h.id !== id);
    if (revealed.value?.id === id) revealed.value = null;
  }

  function dismissSecret(): void {
    revealed.value = null;
  }

  return { workflowId, schedules, webhooks, revealed, load, createSchedule, setPaused, triggerNow, removeSchedule, createWebhook, removeWebhook, dismissSecret };
});
