// One execution on the canvas: the graph of the version it ran with, and the run as its events say it is,
// folded with core/run-view.ts (the run machine's rules). The events carry each node's status, attempts,
// handle, output size and preview, so the API is read only on open, after a reconnect, when a gap in the
// event sequence is seen, and for the details (input, full output, usage) of the node the user looks at.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { CanvasGraph } from '../../../core/graph';
import type { ExecutionTriggerType } from '../../../core/api-views';
import { applyEvent, applyExecution, emptyRunView, isRunViewFinished, type NodeView, type RunView } from '../../../core/run-view';
import { apiRequest } from '../api/client';
import { RunSocket } from '../api/run-socket';
import type { ExecutionEvent, ExecutionStatus, ExecutionView, NodeExecutionView, WorkflowVersion } from '../api/types';
import { useAuthStore } from './auth';
import { applyDelta, dropStreamingText, type StreamingTexts } from './streaming-text';

/** What the canvas shows of a node during a run. */
export type LiveNode = NodeView;

export const useRunStore = defineStore('run', () => {
  /** The row as last read: version, inputs, the Temporal link and the nodes' details. Statuses come from `view`. */
  const execution = ref<ExecutionView | null>(null);
  const graph = shallowRef<CanvasGraph>({ nodes: [], edges: [] });
  const view = shallowRef<RunView>(emptyRunView([]));
  const events = ref<ExecutionEvent[]>([]);
  const socketState = ref<'connecting' | 'live' | 'closed'>('closed');
  /** What running agents have streamed so far, by node (streaming-text.ts); gone once the node ends. */
  const streaming = shallowRef<StreamingTexts>({});
  let socket: RunSocket | null = null;
  // Reads can come back out of order (one renews the session first, another does not): only the latest is kept.
  let reads = 0;
  let resyncing = false;
  let wasLive = false;

  const live = computed<Record<string, LiveNode>>(() => view.value.nodes);
  const status = computed<ExecutionStatus | null>(() => (execution.value ? view.value.status : null));
  const finished = computed(() => execution.value !== null && isRunViewFinished(view.value));
  const outputs = computed(() => view.value.outputs);
  const error = computed(() => view.value.error);

  function nodeDetails(nodeId: string): NodeExecutionView | undefined {
    return execution.value?.nodes?.find((n) => n.nodeId === nodeId);
  }

  /** Reads the run again: the details are replaced, the statuses only move forward (core/run-view.ts). */
  async function refetch(): Promise<void> {
    const id = execution.value?.id;
    if (!id) return;
    const read = ++reads;
    const row = await apiRequest<ExecutionView>('GET', `/api/v1/executions/${encodeURIComponent(id)}`);
    if (execution.value?.id !== id || read !== reads) return;
    execution.value = row;
    view.value = applyExecution(view.value, row);
  }

  /** One read for events that were missed (a gap, a reconnect); more of them while it runs add no read. */
  function resync(): void {
    if (resyncing) return;
    resyncing = true;
    // A failed read is not an error to show: the events go on, and the next gap or open reads again.
    refetch()
      .catch(() => undefined)
      .finally(() => {
        resyncing = false;
      });
  }

  function apply(event: ExecutionEvent): void {
    const folded = applyEvent(view.value, event);
    if (folded.view === view.value) return; // seen already
    view.value = folded.view;
    events.value.push(event);
    if (event.nodeId && (event.type === 'node.succeeded' || event.type === 'node.failed' || event.type === 'node.cancelled')) {
      streaming.value = dropStreamingText(streaming.value, event.nodeId);
    }
    if (folded.gap) resync();
  }

  async function open(executionId: string): Promise<void> {
    close();
    const row = await apiRequest<ExecutionView>('GET', `/api/v1/executions/${encodeURIComponent(executionId)}`);
    const versions = await apiRequest<{ items: WorkflowVersion[] }>('GET', `/api/v1/workflows/${encodeURIComponent(row.workflowId)}/versions`);
    const ran = versions.items.find((v) => v.version === row.workflowVersion);
    graph.value = ran?.graph ?? { nodes: [], edges: [] };
    events.value = [];
    // The rows say where the run stood when it was read: a finished run shows its colours even before (or
    // without) the socket. The replay from the first event then only moves nodes forward from there.
    view.value = applyExecution(emptyRunView(graph.value.nodes.map((n) => n.id)), row);
    execution.value = row;
    const auth = useAuthStore();
    socket = new RunSocket({
      executionId,
      afterSeq: 0,
      token: () => auth.freshAccessToken(),
      onEvent: apply,
      onDelta: (delta) => {
        streaming.value = applyDelta(streaming.value, delta);
      },
      onState: (state) => {
        socketState.value = state;
        if (state !== 'live') return;
        // The hub replays what the socket missed while it was down; the read covers what the replay cannot.
        if (wasLive) resync();
        wasLive = true;
      },
    });
  }

  function close(): void {
    socket?.close();
    socket = null;
    wasLive = false;
    execution.value = null;
    view.value = emptyRunView([]);
    streaming.value = {};
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

  return { execution, graph, view, live, events, streaming, socketState, status, finished, outputs, error, nodeDetails, open, close, cancel, refetch, apply, dropConnection };
});

/** Starts a run of the saved workflow (its current version, or `version`); returns the execution id. */
export async function startExecution(workflowId: string, inputs: Record<string, unknown>, version?: number): Promise<string> {
  const res = await apiRequest<{ id: string }>('POST', `/api/v1/workflows/${encodeURIComponent(workflowId)}/executions`, { body: { inputs, ...(version !== undefined ? { version } : {}) } });
  return res.id;
}

/** Retries a finished run from `fromNodeId` (null: the node that failed), keeping what came before; returns the new execution id. */
export async function retryExecution(executionId: string, fromNodeId: string | null): Promise<string> {
  const res = await apiRequest<{ id: string }>('POST', `/api/v1/executions/${encodeURIComponent(executionId)}/retry`, { body: fromNodeId ? { fromNodeId } : {} });
  return res.id;
}

export async function listExecutions(workflowId: string, limit = 20, trigger?: ExecutionTriggerType): Promise<ExecutionView[]> {
  const q = new URLSearchParams({ workflowId, limit: String(limit), ...(trigger ? { trigger } : {}) });
  const res = await apiRequest<{ items: ExecutionView[] }>('GET', `/api/v1/executions?${q.toString()}`);
  return res.items;
}
