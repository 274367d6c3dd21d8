// The approvals inbox: pending approvals with their context, the badge count, and deciding one.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { apiRequest } from '../api/client';
import { HubConnection } from '../api/hub-connection';
import type { ApprovalView } from '../api/types';
import { useAuthStore } from './auth';

export const useApprovalsStore = defineStore('approvals', () => {
  const pending = ref<ApprovalView[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  let feed: HubConnection | null = null;
  // Refreshes overlap (every approval event starts one) and can answer out of order: only the latest applies,
  // so an answer read before an approval closed never brings it back into the badge.
  let reads = 0;

  const count = computed(() => pending.value.length);

  async function refresh(): Promise<void> {
    const read = ++reads;
    try {
      const res = await apiRequest<{ items: ApprovalView[] }>('GET', '/api/v1/approvals?status=pending&limit=100');
      if (read !== reads) return;
      pending.value = res.items;
      error.value = null;
    } catch (err) {
      if (read === reads) error.value = err instanceof Error ? err.message : String(err);
    } finally {
      loaded.value = true;
    }
  }

  /**
   * Keeps the inbox live: the hub sends every approval event of the tenant, and each one (and each
   * reconnect, which may have missed some) reloads the pending list.
   */
  function watch(): void {
    if (feed) return;
    const auth = useAuthStore();
    feed = new HubConnection({
      token: () => auth.freshAccessToken(),
      hello: () => ({ type: 'watch_approvals' }),
      onMessage: (message) => {
        if (message.type === 'watching_approvals' || message.type === 'approval') void refresh();
      },
    });
  }

  function unwatch(): void {
    feed?.close();
    feed = null;
  }

  async function decide(a: ApprovalView, decision: 'approve' | 'reject', comment: string, data: Record<string, unknown>): Promise<void> {
    const body: Record<string, unknown> = { decision };
    if (comment.trim()) body['comment'] = comment.trim();
    if (Object.keys(data).length > 0) body['data'] = data;
    await apiRequest('POST', `/api/v1/executions/${encodeURIComponent(a.executionId)}/approvals/${encodeURIComponent(a.nodeId)}`, { body });
    pending.value = pending.value.filter((p) => p.id !== a.id);
  }

  return { pending, loaded, error, count, refresh, watch, unwatch, decide };
});
