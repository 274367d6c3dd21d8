// The tenant's runs as the Runs page reads them: a filter (workflow, status, what started them, creation time),
// the first page for it, further pages by the API's cursor, and the workflows' names for the filter.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { apiRequest } from '../api/client';
import type { ExecutionStatus, ExecutionView, WorkflowSummary } from '../api/types';
import type { ExecutionTriggerType } from '../../../core/api-views';

export const RUNS_PAGE_SIZE = 50;

export interface RunsFilter {
  workflowId?: string;
  status?: ExecutionStatus | '';
  trigger?: ExecutionTriggerType | '';
  /** From <input type="datetime-local">: local times, sent as instants. */
  from?: string;
  to?: string;
}

/** The query of GET /executions for a filter (empty fields left out) and a cursor. */
export function runsQuery(filter: RunsFilter, cursor: string | null, limit = RUNS_PAGE_SIZE): string {
  const q = new URLSearchParams({ limit: String(limit) });
  for (const [key, value] of Object.entries(filter)) {
    if (typeof value !== 'string' || !value.trim()) continue;
    q.set(key, key === 'from' || key === 'to' ? new Date(value).toISOString() : value.trim());
  }
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

export const useRunsStore = defineStore('runs', () => {
  const items = ref<ExecutionView[]>([]);
  const filter = ref<RunsFilter>({});
  const nextCursor = ref<string | null>(null);
  const loading = ref(false);
  const workflows = ref<Pick<WorkflowSummary, 'id' | 'name'>[]>([]);
  // A filter changed while a page was on its way: only the newest read applies.
  let reads = 0;

  async function read(cursor: string | null): Promise<void> {
    const read = ++reads;
    loading.value = true;
    try {
      const page = await apiRequest<{ items: ExecutionView[]; nextCursor: string | null }>('GET', `/api/v1/executions?${runsQuery(filter.value, cursor)}`);
      if (read !== reads) return;
      items.value = cursor ? [...items.value, ...page.items] : page.items;
      nextCursor.value = page.nextCursor;
    } finally {
      if (read === reads) loading.value = false;
    }
  }

  /** The first page for `next` (the current filter when omitted). */
  function load(next?: RunsFilter): Promise<void> {
    if (next) filter.value = { ...next };
    return read(null);
  }

  function loadMore(): Promise<void> {
    return nextCursor.value ? read(nextCursor.value) : Promise.resolve();
  }

  /** The tenant's workflows, by name, for the filters of the Runs and Dashboard pages. */
  async function loadWorkflows(): Promise<void> {
    const res = await apiRequest<{ items: WorkflowSummary[] }>('GET', '/api/v1/workflows?limit=100');
    workflows.value = res.items.map((w) => ({ id: w.id, name: w.name })).sort((a, b) => a.name.localeCompare(b.name));
  }

  return { items, filter, nextCursor, loading, workflows, load, loadMore, loadWorkflows };
});
