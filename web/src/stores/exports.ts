// A workflow's Python package exports in the editor: the list (newest first), starting one, following it
// until it finishes (a poll each second while any is unfinished), cancelling it and downloading its wheel.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { FINISHED_EXPORT_STATUSES } from '../../../core/export-protocol';
import { apiDownload, apiRequest, describeError } from '../api/client';
import type { ExportSummary } from '../api/types';

const POLL_MS = 1000;

export const useExportsStore = defineStore('exports', () => {
  const workflowId = ref<string | null>(null);
  const items = ref<ExportSummary[]>([]);
  const error = ref<string | null>(null);
  let timer: ReturnType<typeof setTimeout> | null = null;

  const unfinished = computed(() => items.value.some((e) => !FINISHED_EXPORT_STATUSES.includes(e.status)));

  async function load(id: string): Promise<void> {
    if (workflowId.value !== id) items.value = [];
    workflowId.value = id;
    const res = await apiRequest<{ items: ExportSummary[] }>('GET', `/api/v1/workflows/${encodeURIComponent(id)}/exports?limit=20`);
    if (workflowId.value !== id) return;
    items.value = res.items;
    error.value = null;
    follow();
  }

  /** Polls while an export is unfinished; stops by itself once every one has ended. */
  function follow(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    const id = workflowId.value;
    if (!id || !unfinished.value) return;
    timer = setTimeout(() => {
      timer = null;
      load(id).catch((err: unknown) => {
        error.value = describeError(err);
        follow();
      });
    }, POLL_MS);
  }

  async function start(id: string, version?: number): Promise<void> {
    await apiRequest('POST', `/api/v1/workflows/${encodeURIComponent(id)}/exports`, { body: version === undefined ? {} : { version } });
    await load(id);
  }

  async function cancel(exportId: string): Promise<void> {
    await apiRequest('POST', `/api/v1/exports/${encodeURIComponent(exportId)}/cancel`);
    if (workflowId.value) await load(workflowId.value);
  }

  /** Fetches the wheel with the session's token and hands it to the browser as a file download. */
  async function download(exportId: string): Promise<void> {
    const { blob, filename } = await apiDownload(`/api/v1/exports/${encodeURIComponent(exportId)}/download`);
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  function stop(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    workflowId.value = null;
    items.value = [];
    error.value = null;
  }

  return { workflowId, items, error, unfinished, load, start, cancel, download, stop };
});
