// A run as its view shows it, folded from the run's events (made by core/run-ledger.ts): each node's status,
// attempts, handle, output size, preview and error, and the run's status, outputs and error. The rules are the
// run machine's (core/run-machine.ts): a node only moves forward (pending → running or waiting → one terminal
// status, set once), a run that has ended changes no more, and its end cancels every node still open. A REST
// read of the run folds in by the same rule, so a read that lags the events never moves anything back. Pure:
// the browser's run store folds with it; the events alone are enough, a read is needed only to fill a gap.
import type { ExecutionView } from './api-views';
import {
  OPEN_NODE_STATUSES,
  RUN_END_EVENTS,
  TERMINAL_EXECUTION_STATUSES,
  type ExecutionEventType,
  type ExecutionStatus,
  type NodeStatus,
} from './events';
import { CONVERSATION_EVENTS, turnsAfter, type ConversationTurnView } from './conversation-view';
import { jsonBytes } from './limits';
import { outputPreview, type RunError } from './run-ledger';

export interface NodeView {
  status: NodeStatus;
  /** Attempts started, as the machine counts them (a retry raises it before the next attempt runs). */
  attempts: number;
  /** The handle a condition or a decided approval took; null for every other node. */
  handle: string | null;
  /** UTF-8 bytes of the output's JSON, once the node succeeded. */
  outputBytes: number | null;
  /** The first characters of the output (an agent's text), once the node succeeded. */
  preview: string | null;
  /** Why it failed; on a succeeded node, the failure its onError handled (`node.succeeded` with `handled: true`). */
  error: { code: string; message: string } | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** A tool-using agent's rounds so far (model_call.* and tool_call.* events), in round order; empty for every other node. */
  rounds: RoundView[];
  /** A conversation's turns so far (conversation.* events, core/conversation-view.ts); absent for every other node. */
  turns?: ConversationTurnView[];
  /** A retry's node that kept this result from the run it retries (its event's `reusedFrom`): it did not run again. */
  reusedFrom?: string;
  /** A subflow node's child execution, once it runs (its `subflow.started` event): the run view links to it. */
  childExecutionId?: string;
  /** The child's workflow (where the link goes). */
  childWorkflowId?: string;
  /** A map node's items so far (its `map.progress` events, core/map-run.ts); absent for every other node. */
  mapProgress?: MapProgressView;
}

export interface MapProgressView {
  done: number;
  failed: number;
  total: number;
}

/** What a tool call is doing: `awaiting_approval` while it waits for a person (toolApproval). */
export type ToolCallStatus = 'running' | 'awaiting_approval' | 'succeeded' | 'failed';

/** One tool call as its events tell it. The events carry a preview of the result; the node's output has it whole. */
export interface ToolCallView {
  id: string;
  name: string;
  arguments: unknown;
  status: ToolCallStatus;
  /** How long the call ran, as the machine measured it (0 for a call answered at once, e.g. refused). */
  durationMs: number | null;
  /** The first characters of the result's JSON, and its UTF-8 bytes, once it succeeded. */
  preview: string | null;
  resultBytes: number | null;
  /** The error the model was told, once it failed. */
  error: string | null;
  /** A workflow tool's child execution, once it runs (`subflow.started` with the call's round and id), and its workflow. */
  childExecutionId?: string;
  childWorkflowId?: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** One round of the loop: its model call, then the tool calls the model asked for. */
export interface RoundView {
  round: number;
  model: {
    /** `running` until model_call.succeeded (a failing model call fails the node: node.failed). */
    status: 'running' | 'succeeded';
    /** Model call attempts of this round (a retry raises it). */
    attempts: number;
    model: string | null;
    usage: { inputTokens: number; outputTokens: number; totalTokens: number } | null;
    /** Tool names the model asked for in this round. */
    toolNames: string[];
    preview: string | null;
    /** From the round's start (the node's start, or the previous round's last tool call's end) to its answer. */
    durationMs: number | null;
    startedAt: string | null;
    finishedAt: string | null;
  };
  calls: ToolCallView[];
}

export interface RunView {
  status: ExecutionStatus;
  nodes: Record<string, NodeView>;
  /** The run's outputs once it succeeded. */
  outputs: Record<string, unknown> | null;
  error: RunError | null;
  /** The last event folded in: the next one is expected at `lastSeq + 1`. */
  lastSeq: number;
}

/** An event as a view reads it: a stored event, or one off the socket (whose type a client does not narrow). */
export interface ViewEvent {
  seq: number;
  type: string;
  nodeId?: string;
  at: string;
  data?: Record<string, unknown>;
}

export interface Folded {
  view: RunView;
  /** Events were missed before this one (its seq skipped ahead): the view needs one read of the run. */
  gap: boolean;
}

/** What each node event says of its node's status (the event's type is enough: older runs' events carry no `data.status`). */
const NODE_EVENT_STATUS = {
  'node.started': 'running',
  'node.retrying': 'running',
  'node.waiting': 'waiting',
  'approval.requested': 'waiting',
  'node.succeeded': 'succeeded',
  'node.failed': 'failed',
  'node.skipped': 'skipped',
  'node.cancelled': 'cancelled',
} as const satisfies Partial<Record<ExecutionEventType, NodeStatus>>;

/** A node event's failure when it gives no code (events of runs older than the run machine). */
const UNKNOWN_NODE_ERROR = 'NODE_ERROR';

export function pendingNode(): NodeView {
  return { status: 'pending', attempts: 0, handle: null, outputBytes: null, preview: null, error: null, startedAt: null, finishedAt: null, rounds: [] };
}

/** A run before anything is known of it: every node pending. */
export function emptyRunView(nodeIds: readonly string[], status: ExecutionStatus = 'pending'): RunView {
  return { status, nodes: Object.fromEntries(nodeIds.map((id) => [id, pendingNode()])), outputs: null, error: null, lastSeq: 0 };
}

export function isRunViewFinished(view: RunView): boolean {
  return TERMINAL_EXECUTION_STATUSES.includes(view.status);
}

/** One event. A repeated or older event (seq at or below `lastSeq`) changes nothing. The input view is not changed. */
export function applyEvent(previous: RunView, event: ViewEvent): Folded {
  if (event.seq <= previous.lastSeq) return { view: previous, gap: false };
  const gap = event.seq > previous.lastSeq + 1;
  const view: RunView = { ...previous, nodes: { ...previous.nodes }, lastSeq: event.seq };
  if (isRunViewFinished(view)) return { view, gap };
  const data = event.data ?? {};
  const nodeStatus = (NODE_EVENT_STATUS as Partial<Record<string, NodeStatus>>)[event.type];
  if (event.nodeId && nodeStatus) {
    const current = view.nodes[event.nodeId] ?? pendingNode();
    view.nodes[event.nodeId] = nodeAfter(current, nodeStatus, event.type, data, event.at);
    view.status = openRunStatus(view);
    if (event.type === 'node.retrying' && typeof data.round === 'number') view.nodes[event.nodeId] = roundsAfter(view.nodes[event.nodeId]!, event.type, data, event.at);
  } else if (event.nodeId && CONVERSATION_EVENTS.includes(event.type)) {
    const current = view.nodes[event.nodeId] ?? pendingNode();
    if (rank(current.status) < 2) view.nodes[event.nodeId] = { ...current, turns: turnsAfter(current.turns, event.type, data, event.at) };
  } else if (event.nodeId && event.type === 'subflow.started' && typeof data.childExecutionId === 'string') {
    view.nodes[event.nodeId] = childLinked(view.nodes[event.nodeId] ?? pendingNode(), data.childExecutionId, data);
  } else if (event.nodeId && event.type === 'map.progress') {
    // Counts only grow: a report that arrives late (written by the coordinator, not the run) never moves them back.
    const current = view.nodes[event.nodeId] ?? pendingNode();
    const next = mapProgressOf(data);
    const seen = current.mapProgress ? current.mapProgress.done + current.mapProgress.failed : -1;
    if (next && next.done + next.failed > seen) view.nodes[event.nodeId] = { ...current, mapProgress: next };
  } else if (event.nodeId && ROUND_EVENTS.includes(event.type)) {
    // A finished node keeps its rounds as they were (the machine ignores late steps of a node no longer in flight).
    const current = view.nodes[event.nodeId] ?? pendingNode();
    if (rank(current.status) < 2) view.nodes[event.nodeId] = roundsAfter(current, event.type, data, event.at);
  } else if (event.type === 'execution.started') {
    view.status = openRunStatus(view);
  } else if ((RUN_END_EVENTS as readonly string[]).includes(event.type)) {
    const status = event.type.slice('execution.'.length) as ExecutionStatus;
    end(view, status, isRecord(data.outputs) ? data.outputs : null, runError(data.error), event.at);
  }
  return { view, gap };
}

/** A child execution's id on its subflow node, or on the workflow tool call that started it. */
function childLinked(node: NodeView, childExecutionId: string, data: Record<string, unknown>): NodeView {
  const link = { childExecutionId, ...(typeof data.childWorkflowId === 'string' ? { childWorkflowId: data.childWorkflowId } : {}) };
  if (typeof data.callId !== 'string' || typeof data.round !== 'number') return { ...node, ...link };
  const { callId, round } = data;
  const rounds = (node.rounds ?? []).map((r) => (r.round === round ? { ...r, calls: r.calls.map((c) => (c.id === callId ? { ...c, ...link } : c)) } : r));
  return { ...node, rounds };
}

function mapProgressOf(data: Record<string, unknown>): MapProgressView | null {
  const { done, failed, total } = data;
  return typeof done === 'number' && typeof failed === 'number' && typeof total === 'number' ? { done, failed, total } : null;
}

/** Several events in order; `gap` if any of them skipped ahead. */
export function applyEvents(view: RunView, events: readonly ViewEvent[]): Folded {
  let gap = false;
  for (const event of events) {
    const folded = applyEvent(view, event);
    view = folded.view;
    gap ||= folded.gap;
  }
  return { view, gap };
}

/**
 * A read of the run (GET /executions/:id) folded in: a node or run moves to what the rows say only where the rows
 * are further on (a terminal status beats an open one, an open one beats pending), so the rows fill what events
 * were missed and a read older than the events changes nothing. `lastSeq` stays: the events go on from there.
 */
export function applyExecution(previous: RunView, row: Pick<ExecutionView, 'status' | 'outputs' | 'error' | 'nodes'>): RunView {
  const view: RunView = { ...previous, nodes: { ...previous.nodes } };
  for (const n of row.nodes ?? []) {
    const current = view.nodes[n.nodeId] ?? pendingNode();
    const ahead = rank(n.status) > rank(current.status);
    const succeeded = (ahead ? n.status : current.status) === 'succeeded';
    view.nodes[n.nodeId] = {
      ...current,
      status: ahead ? n.status : current.status,
      attempts: Math.max(current.attempts, n.attempts),
      outputBytes: current.outputBytes ?? (succeeded && n.output !== undefined ? jsonBytes(n.output ?? null) : null),
      preview: current.preview ?? (succeeded && n.output !== undefined ? outputPreview(n.output) : null),
      error: current.error ?? (n.error ? { code: n.error.code, message: n.error.message } : null),
      startedAt: current.startedAt ?? n.startedAt,
      finishedAt: current.finishedAt ?? n.finishedAt,
      ...((current.reusedFrom ?? n.reusedFrom) ? { reusedFrom: current.reusedFrom ?? n.reusedFrom } : {}),
    };
  }
  view.outputs = view.outputs ?? row.outputs;
  view.error = view.error ?? row.error;
  if (isRunViewFinished(view)) return view;
  if (TERMINAL_EXECUTION_STATUSES.includes(row.status)) end(view, row.status, view.outputs, view.error, null);
  else if (row.status !== 'pending' || view.status !== 'pending') view.status = openRunStatus(view);
  return view;
}

/** The events of a tool-using agent's steps: they change its rounds, never its status. */
const ROUND_EVENTS: readonly string[] = ['model_call.succeeded', 'tool_call.started', 'tool_call.succeeded', 'tool_call.failed'];

/** A round event folded into its node's rounds; an event without a round number changes nothing. */
function roundsAfter(node: NodeView, type: string, data: Record<string, unknown>, at: string): NodeView {
  const round = numberOr(data.round, null);
  if (round === null) return node;
  const rounds = [...(node.rounds ?? [])];
  let index = rounds.findIndex((r) => r.round === round);
  if (index < 0) {
    rounds.push(newRound(round, roundStart(node, round)));
    rounds.sort((a, b) => a.round - b.round);
    index = rounds.findIndex((r) => r.round === round);
  }
  const r = rounds[index]!;
  if (type === 'node.retrying') {
    rounds[index] = { ...r, model: { ...r.model, attempts: Math.max(r.model.attempts, numberOr(data.nextAttempt, r.model.attempts + 1)) } };
  } else if (type === 'model_call.succeeded') {
    if (r.model.status === 'succeeded') return node;
    const startedAt = r.model.startedAt ?? roundStart(node, round);
    rounds[index] = {
      ...r,
      model: {
        ...r.model,
        status: 'succeeded',
        attempts: Math.max(r.model.attempts, numberOr(data.attempt, 1)),
        model: typeof data.model === 'string' ? data.model : null,
        usage: usageOf(data.usage),
        toolNames: Array.isArray(data.toolCalls) ? data.toolCalls.filter((n): n is string => typeof n === 'string') : [],
        preview: typeof data.preview === 'string' ? data.preview : null,
        startedAt,
        finishedAt: at,
        durationMs: startedAt ? Math.max(0, Date.parse(at) - Date.parse(startedAt)) : null,
      },
    };
  } else {
    const id = typeof data.callId === 'string' ? data.callId : null;
    if (id === null) return node;
    const calls = [...r.calls];
    const found = calls.findIndex((c) => c.id === id);
    const current: ToolCallView = calls[found] ?? {
      id,
      name: typeof data.tool === 'string' ? data.tool : '',
      arguments: data.arguments ?? null,
      status: 'running',
      durationMs: null,
      preview: null,
      resultBytes: null,
      error: null,
      startedAt: null,
      finishedAt: null,
    };
    let next: ToolCallView;
    if (type === 'tool_call.started') {
      // A started call only says running or awaiting approval: it never moves an ended one back.
      if (current.finishedAt !== null) return node;
      next = { ...current, status: data.callStatus === 'waiting' ? 'awaiting_approval' : 'running', startedAt: current.startedAt ?? at };
    } else {
      const failed = type === 'tool_call.failed';
      next = {
        ...current,
        status: failed ? 'failed' : 'succeeded',
        durationMs: numberOr(data.durationMs, null),
        preview: failed ? null : typeof data.preview === 'string' ? data.preview : null,
        resultBytes: failed ? null : numberOr(data.outputBytes, null),
        error: failed ? (typeof data.error === 'string' ? data.error : 'tool call failed') : null,
        finishedAt: at,
      };
    }
    if (found < 0) calls.push(next);
    else calls[found] = next;
    rounds[index] = { ...r, calls };
  }
  return { ...node, rounds };
}

function newRound(round: number, startedAt: string | null): RoundView {
  return {
    round,
    model: { status: 'running', attempts: 1, model: null, usage: null, toolNames: [], preview: null, durationMs: null, startedAt, finishedAt: null },
    calls: [],
  };
}

/** When round `round`'s model call began: the node's start for the first, else when the previous round's last call ended. */
function roundStart(node: NodeView, round: number): string | null {
  if (round === 1) return node.startedAt;
  const previous = (node.rounds ?? []).find((r) => r.round === round - 1);
  const ends = (previous?.calls ?? []).map((c) => c.finishedAt).filter((t): t is string => t !== null);
  return ends.length ? ends.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a)) : (previous?.model.finishedAt ?? null);
}

function usageOf(value: unknown): RoundView['model']['usage'] {
  if (!isRecord(value)) return null;
  const inputTokens = numberOr(value.inputTokens, 0);
  const outputTokens = numberOr(value.outputTokens, 0);
  return { inputTokens, outputTokens, totalTokens: numberOr(value.totalTokens, inputTokens + outputTokens) };
}

/** pending < running, waiting < every terminal status: a status only moves up this order. */
function rank(status: NodeStatus): number {
  if (status === 'pending') return 0;
  return (OPEN_NODE_STATUSES as readonly NodeStatus[]).includes(status) ? 1 : 2;
}

function nodeAfter(current: NodeView, status: NodeStatus, type: string, data: Record<string, unknown>, at: string): NodeView {
  const attempt = numberOr(data.attempt, null);
  // A retry counts the attempt it is about to start; older events name only the one that failed.
  const announced = type === 'node.retrying' ? numberOr(data.nextAttempt, (attempt ?? current.attempts) + 1) : (attempt ?? (status === 'skipped' ? 0 : 1));
  const attempts = Math.max(current.attempts, announced);
  // A finished node stays as it finished (the machine ignores whatever reaches a node that is no longer in flight).
  if (rank(current.status) === 2) return current;
  if (rank(status) < rank(current.status)) return { ...current, attempts };
  const next: NodeView = { ...current, status, attempts, startedAt: current.startedAt ?? (rank(status) === 1 ? at : null) };
  if (status === 'succeeded') {
    next.handle = typeof data.handle === 'string' ? data.handle : null;
    next.outputBytes = numberOr(data.outputBytes, null);
    next.preview = typeof data.preview === 'string' ? data.preview : typeof data.textPreview === 'string' ? data.textPreview : null;
    if (data.handled === true) next.error = nodeEventError(data);
  }
  if (status === 'failed') next.error = nodeEventError(data);
  if (rank(status) === 2) next.finishedAt = at;
  if (typeof data.reusedFrom === 'string') next.reusedFrom = data.reusedFrom;
  return next;
}

/** The error a node event carries: `code` and the message as `error` (older events: an error object). */
function nodeEventError(data: Record<string, unknown>): { code: string; message: string } {
  const message = typeof data.error === 'string' ? data.error : (runError(data.error)?.message ?? '');
  return { code: typeof data.code === 'string' ? data.code : (runError(data.error)?.code ?? UNKNOWN_NODE_ERROR), message };
}

/** The status of a run still open: waiting while a node waits on a person, else running. */
function openRunStatus(view: RunView): ExecutionStatus {
  return Object.values(view.nodes).some((n) => n.status === 'waiting') ? 'waiting' : 'running';
}

/** The run ends: every node still open is cancelled (the machine's `end`). */
function end(view: RunView, status: ExecutionStatus, outputs: Record<string, unknown> | null, error: RunError | null, at: string | null): void {
  view.status = status;
  view.outputs = outputs ?? view.outputs;
  view.error = error ?? view.error;
  for (const [id, n] of Object.entries(view.nodes)) {
    if (rank(n.status) < 2) view.nodes[id] = { ...n, status: 'cancelled', finishedAt: n.finishedAt ?? at };
  }
}

function runError(value: unknown): RunError | null {
  if (!isRecord(value) || typeof value.code !== 'string' || typeof value.message !== 'string') return null;
  return { code: value.code, message: value.message, ...(typeof value.nodeId === 'string' ? { nodeId: value.nodeId } : {}) };
}

function numberOr<T>(value: unknown, fallback: T): number | T {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
