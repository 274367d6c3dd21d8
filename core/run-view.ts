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
  error: { code: string; message: string } | null;
  startedAt: string | null;
  finishedAt: string | null;
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
  return { status: 'pending', attempts: 0, handle: null, outputBytes: null, preview: null, error: null, startedAt: null, finishedAt: null };
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
  } else if (event.type === 'execution.started') {
    view.status = openRunStatus(view);
  } else if ((RUN_END_EVENTS as readonly string[]).includes(event.type)) {
    const status = event.type.slice('execution.'.length) as ExecutionStatus;
    end(view, status, isRecord(data.outputs) ? data.outputs : null, runError(data.error), event.at);
  }
  return { view, gap };
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
    };
  }
  view.outputs = view.outputs ?? row.outputs;
  view.error = view.error ?? row.error;
  if (isRunViewFinished(view)) return view;
  if (TERMINAL_EXECUTION_STATUSES.includes(row.status)) end(view, row.status, view.outputs, view.error, null);
  else if (row.status !== 'pending' || view.status !== 'pending') view.status = openRunStatus(view);
  return view;
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
  }
  if (status === 'failed') {
    const message = typeof data.error === 'string' ? data.error : (runError(data.error)?.message ?? '');
    next.error = { code: typeof data.code === 'string' ? data.code : (runError(data.error)?.code ?? UNKNOWN_NODE_ERROR), message };
  }
  if (rank(status) === 2) next.finishedAt = at;
  return next;
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
