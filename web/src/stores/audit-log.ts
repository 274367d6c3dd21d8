// The tenant's audit log as the Settings page reads it: a filter (action family, actor, target type, time),
// the first page for that filter, and further pages by the API's `nextBefore`.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { apiRequest } from '../api/client';
import type { AuditEntryView, AuditFilter } from '../api/settings-types';

export const AUDIT_PAGE_SIZE = 50;

export const useAuditLogStore = defineStore('auditLog', () => {
  const entries = ref<AuditEntryView[]>([]);
  const filter = ref<AuditFilter>({});
  const nextBefore = ref<string | null>(null);
  const loading = ref(false);
  // A filter changed while a page was on its way: only the newest read applies.
  let reads = 0;

  function query(before: string | null): string {
    const q = new URLSearchParams({ limit: String(AUDIT_PAGE_SIZE) });
    for (const [key, value] of Object.entries(filter.value)) {
      if (typeof value !== 'string' || !value.trim()) continue;
      // Dates from <input type="datetime-local"> are local times: the API gets them as instants.
      q.set(key, key === 'since' || key === 'until' ? new Date(value).toISOString() : value.trim());
    }
    if (before) q.set('before', before);
    return q.toString();
  }

  async function read(before: string | null): Promise<void> {
    const read = ++reads;
    loading.value = true;
    try {
      const page = await apiRequest<{ entries: AuditEntryView[]; nextBefore: string | null }>('GET', `/api/v1/tenant/audit-log?${query(before)}`);
      if (read !== reads) return;
      entries.value = before ? [...entries.value, ...page.entries] : page.entries;
      nextBefore.value = page.nextBefore;
    } finally {
      if (read === reads) loading.value = false;
    }
  }

  /** The first page for `next` (the current filter when omitted). */
  function load(next?: AuditFilter): Promise<void> {
    if (next) filter.value = { ...next };
    return read(null);
  }

  function loadMore(): Promise<void> {
    return nextBefore.value ? read(nextBefore.value) : Promise.resolve();
  }

  return { entries, filter, nextBefore, loading, load, loadMore };
});
