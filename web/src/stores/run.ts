// One execution on the canvas: the graph of the version it ran with, every node's live status from the
// WebSocket, and the details (input, output, usage, error, timings) fetched from the API.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { CanvasGraph } from '../../../core/graph';
import { apiRequest } from '../api/client';
import { RunSocket } from '../api/run-socket';
import type { ExecutionEvent, ExecutionStatus, ExecutionView, NodeExecutionView, NodeStatus, WorkflowVersion } from '../api/types';
import { useAuthStore } from './auth';

export interface LiveNode {
  status: NodeStatus;
  attempts: number;
}

const EVENT_NODE_STATUS: Record<string, NodeStatus> = {
  'node.started': 'running',
  'node.retrying': 'running',
  'node.succeeded': 'succeeded',
  'node.failed': 'failed',
  'node.skipped': 'skipped',
  'node.waiting': 'waiting',
  'approval.requested': 'waiting',
};

const EVENT_EXECUTION_STATUS: Record<string, ExecutionStatus> = {
  'execution.started': 'running',
  'execution.succeeded': 'succeeded',
  'execution.failed': 'failed',
  'execution.cancelled': 'cancelled',
};

const TERMINAL: readonly ExecutionStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out'];

export const useRunStore = defineStore('run', () => {
  const execution = ref<ExecutionView | null>(null);
  const graph = shallowRef<CanvasGraph>({ nodes: [], edges: [] });
  const live = ref<Record<string, LiveNode>>({});
  const events = ref<ExecutionEvent[]>([]);
  const socketState = ref<'connecting' | 'live' | 'closed'>('closed');
  let socket: RunSocket | null = null;
  let refetchTimer: ReturnType<typeof setTimeout> | null = null;
  // Reads can come back out of order (one renews the session first, another does not): only the latest applies.
  let reads = 0;

  const status = computed<ExecutionStatus | null>(() => execution.value?.status ?? null);
  const finished = computed(() => status.value !== null && TERMINAL.includes(status.value));

  function nodeDetails(nodeId: string): NodeExecutionView | undefined {
    return execution.value?.nodes?.find((n) => n.nodeId === nodeId);
  }

  async function refetch(): Promise<void> {
    const id = execution.value?.id;
    if (!id) return;
    const read = ++reads;
    const view = await apiRequest<ExecutionView>('GET', `/api/v1/executions/${encodeURIComponent(id)}`);
    if (execution.value?.id !== id || read !== reads) return;
    // A row read before the run's last events lags them: a run that its events ended stays ended.
    const endedByEvents = TERMINAL.includes(execution.value.status) && !TERMINAL.includes(view.status);
    execution.value = endedByEvents ? { ...view, status: execution.value.status } : view;
    // Statuses from events are newer than a row read before them: only fill in what the events have not said.
    for (const n of view.nodes ?? []) {
      const current = live.value[n.nodeId];
      if (!current || current.status === 'pending' || TERMINAL.includes(view.status)) {
        live.value[n.nodeId] = { status: n.status, attempts: Math.max(n.attempts, current?.attempts ?? 0) };
      }
    }
  }

  /** Details arrive with the row, not the event: fetch them soon after a burst of events. */
  function scheduleRefetch(): void {
    if (refetchTimer) return;
    refetchTimer = setTimeout(() => {
      refetchTimer = null;
      // A failed read is not an error to show: the next event, or the next open, reads the run again.
      refetch().catch(() => undefined);
    }, 300);
  }

  function apply(event: ExecutionEvent): void {
    events.value = [...events.value, event];
    const nodeStatus = EVENT_NODE_STATUS[event.type];
    if (event.nodeId && nodeStatus) {
      const previous = live.value[event.nodeId];
      const attempt = typeof event.data?.['attempt'] === 'number' ? event.data['attempt'] : undefined;
      const attempts = event.type === 'node.started' || event.type === 'node.retrying' ? (attempt ?? (previous?.attempts ?? 0) + 1) : (previous?.attempts ?? 0);
      live.value[event.nodeId] = { status: nodeStatus, attempts };
    }
    if (event.type === 'approval.decided' && event.nodeId && live.value[event.nodeId]?.status === 'waiting') {
      live.value[event.nodeId] = { status: 'running', attempts: live.value[event.nodeId]?.attempts ?? 1 };
    }
    const executionStatus = EVENT_EXECUTION_STATUS[event.type];
    if (execution.value && executionStatus) execution.value = { ...execution.value, status: executionStatus };
    if (event.type === 'node.waiting' && execution.value && !TERMINAL.includes(execution.value.status)) {
      execution.value = { ...execution.value, status: 'waiting' };
    }
    if (execution.value?.status === 'cancelled') {
      for (const [id, n] of Object.entries(live.value)) {
        if (n.status === 'pending' || n.status === 'running' || n.status === 'waiting') live.value[id] = { ...n, status: 'cancelled' };
      }
    }
    scheduleRefetch();
  }

  async function open(executionId: string): Promise<void> {
    close();
    const view = await apiRequest<ExecutionView>('GET', `/api/v1/executions/${encodeURIComponent(executionId)}`);
    const versions = await apiRequest<{ items: WorkflowVersion[] }>('GET', `/api/v1/workflows/${encodeURIComponent(view.workflowId)}/versions`);
    const ran = versions.items.find((v) => v.version === view.workflowVersion);
    graph.value = ran?.graph ?? { nodes: [], edges: [] };
    execution.value = view;
    live.value = {};
    events.value = [];
    for (const n of graph.value.nodes) live.value[n.id] = { status: 'pending', attempts: 0 };
    // The rows say where the run stood when it was read: a finished run shows its colours even before (or
    // without) the socket. The replay below then moves every node forward from there.
    for (const n of view.nodes ?? []) live.value[n.nodeId] = { status: n.status, attempts: n.attempts };
    // Start from the beginning of the event log: the row may lag the events, and replaying is cheap.
    const auth = useAuthStore();
    socket = new RunSocket({
      executionId,
      afterSeq: 0,
      token: () => auth.freshAccessToken(),
      onEvent: apply,
      onState: (state) => {
        socketState.value = state;
      },
    });
  }

  function close(): void {
    socket?.close();
    socket = null;
    if (refetchTimer) clearTimeout(refetchTimer);
    refetchTimer = null;
    execution.value = null;
    socketState.value = 'closed';
  }

  async function cancel(): Promise<void> {
    const id = execution.value?.id;
    if (!id) return;
    await apiRequest('POST', `/api/v1/executions/${encodeURIComponent(id)}/cancel`);
    await refetch();
  }

  function dropConnection(): void {
    socket?.dropConnection();
  }

  return { execution, graph, live, events, socketState, status, finished, nodeDetails, open, close, cancel, refetch, apply, dropConnection };
});

/** Starts a run of the saved workflow; returns the execution id. */
export async function startExecution(workflowId: string, inputs: Record<string, unknown>): Promise<string> {
  const res = await apiRequest<{ id: string }>('POST', `/api/v1/workflows/${encodeURIComponent(workflowId)}/executions`, { body: { inputs } });
  return res.id;
}

export async function listExecutions(workflowId: string, limit = 20): Promise<ExecutionView[]> {
  const q = new URLSearchParams({ workflowId, limit: String(limit) });
  const res = await apiRequest<{ items: ExecutionView[] }>('GET', `/api/v1/executions?${q.toString()}`);
  return res.items;
}
