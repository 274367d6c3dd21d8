// The approvals inbox: pending approvals with their context, the badge count, and deciding one.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { apiRequest } from '../api/client';
import type { ApprovalView } from '../api/types';

// The hub streams per-execution events only, so the tenant-wide count is polled; an open run's
// approval events also trigger a refresh (see EditorView), which makes the badge follow a run at once.
const POLL_MS = 5000;

export const useApprovalsStore = defineStore('approvals', () => {
  const pending = ref<ApprovalView[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  let timer: ReturnType<typeof setInterval> | null = null;

  const count = computed(() => pending.value.length);

  async function refresh(): Promise<void> {
    try {
      const res = await apiRequest<{ items: ApprovalView[] }>('GET', '/api/v1/approvals?status=pending&limit=100');
      pending.value = res.items;
      error.value = null;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      loaded.value = true;
    }
  }

  function startPolling(): void {
    if (timer) return;
    void refresh();
    timer = setInterval(() => void refresh(), POLL_MS);
  }

  function stopPolling(): void {
    if (timer) clearInterval(timer);
    timer = null;
  }

  async function decide(a: ApprovalView, decision: 'approve' | 'reject', comment: string, data: Record<string, unknown>): Promise<void> {
    const body: Record<string, unknown> = { decision };
    if (comment.trim()) body['comment'] = comment.trim();
    if (Object.keys(data).length > 0) body['data'] = data;
    await apiRequest('POST', `/api/v1/executions/${encodeURIComponent(a.executionId)}/approvals/${encodeURIComponent(a.nodeId)}`, { body });
    pending.value = pending.value.filter((p) => p.id !== a.id);
  }

  return { pending, loaded, error, count, refresh, startPolling, stopPolling, decide };
});
