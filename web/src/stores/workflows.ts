// The workflows list: search, create, rename, delete, and each workflow's last run status.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CanvasGraph } from '../../../core/graph';
import { apiRequest } from '../api/client';
import type { ExecutionStatus, WorkflowSummary, WorkflowView } from '../api/types';
import { listExecutions } from './run';

export const useWorkflowsStore = defineStore('workflows', () => {
  const items = ref<WorkflowSummary[]>([]);
  const total = ref(0);
  const search = ref('');
  const loading = ref(false);
  const lastRunStatus = ref<Record<string, ExecutionStatus | undefined>>({});

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      const q = new URLSearchParams({ limit: '100' });
      if (search.value.trim()) q.set('search', search.value.trim());
      const res = await apiRequest<{ items: WorkflowSummary[]; total: number }>('GET', `/api/v1/workflows?${q.toString()}`);
      items.value = res.items;
      total.value = res.total;
    } finally {
      loading.value = false;
    }
    // One small request per listed workflow: the list is paged to 100 and the API has no "last run" field.
    await Promise.all(
      items.value.map(async (w) => {
        const [last] = await listExecutions(w.id, 1);
        lastRunStatus.value[w.id] = last?.status;
      }),
    );
  }

  async function create(name: string, graph: CanvasGraph = { nodes: [], edges: [] }): Promise<WorkflowView> {
    const view = await apiRequest<WorkflowView>('POST', '/api/v1/workflows', { body: { name, graph } });
    items.value = [view, ...items.value];
    total.value += 1;
    return view;
  }

  async function rename(id: string, name: string): Promise<void> {
    const view = await apiRequest<WorkflowView>('PUT', `/api/v1/workflows/${encodeURIComponent(id)}`, { body: { name } });
    items.value = items.value.map((w) => (w.id === id ? view : w));
  }

  async function remove(id: string): Promise<void> {
    await apiRequest('DELETE', `/api/v1/workflows/${encodeURIComponent(id)}`);
    items.value = items.value.filter((w) => w.id !== id);
    total.value -= 1;
  }

  /** Id and name of the first 100 workflows, for pickers (an agent's workflow tools): one request, no run statuses. */
  async function listOptions(): Promise<{ id: string; name: string }[]> {
    const res = await apiRequest<{ items: WorkflowSummary[] }>('GET', '/api/v1/workflows?limit=100');
    return res.items.map((w) => ({ id: w.id, name: w.name }));
  }

  /** The input names of a workflow's trigger at its current version (a subflow node maps each); none when unreadable. */
  async function triggerInputNames(id: string): Promise<string[]> {
    const w = await apiRequest<{ graph: { nodes: { type: string; data?: Record<string, unknown> }[] } }>('GET', `/api/v1/workflows/${encodeURIComponent(id)}`);
    const trigger = w.graph.nodes.find((n) => n.type === 'trigger');
    return Object.keys((trigger?.data?.['inputs'] as Record<string, unknown> | undefined) ?? {});
  }

  return { items, total, search, loading, lastRunStatus, refresh, create, rename, remove, listOptions, triggerInputNames };
});
