// The run store's reading of the event stream: node colours, attempts, previews and the run's own status come
// from the events alone (core/run-view.ts); the API is read on open, after a reconnect and once per gap.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import type { RunSocketOptions } from '../api/run-socket';
import type { ExecutionEvent, ExecutionView, NodeExecutionView } from '../api/types';
import { useRunStore } from './run';

// An answer is a value, or a function that gives each call its own promise (to answer calls out of order).
const api = vi.hoisted(() => ({ answers: new Map<string, unknown>(), calls: [] as string[] }));
vi.mock('../api/client', () => ({
  apiRequest: (method: string, path: string) => {
    api.calls.push(`${method} ${path}`);
    const answer = api.answers.get(`${method} ${path}`);
    return typeof answer === 'function' ? (answer as () => Promise<unknown>)() : Promise.resolve(answer);
  },
  bindSession: () => undefined,
  describeError: String,
}));
// No hub in this test: the test delivers events and connection states through the options the store gave.
const socket = vi.hoisted(() => ({ opts: null as RunSocketOptions | null }));
vi.mock('../api/run-socket', () => ({
  RunSocket: class {
    constructor(opts: RunSocketOptions) {
      socket.opts = opts;
    }
    close(): void {}
  },
}));

const READ = 'GET /api/v1/executions/x';
const reads = () => api.calls.filter((c) => c === READ).length;

let seq = 0;
function event(type: string, nodeId?: string, data?: Record<string, unknown>): ExecutionEvent {
  seq += 1;
  return { seq, executionId: 'x', type, at: new Date().toISOString(), ...(nodeId ? { nodeId } : {}), ...(data ? { data } : {}) };
}
/** Delivers events as the socket does. */
function deliver(...events: ExecutionEvent[]): void {
  for (const e of events) socket.opts!.onEvent(e);
}

/** A run as GET /executions/:id answers it. */
function execution(status: ExecutionView['status'], nodes: NodeExecutionView[] = []): ExecutionView {
  return {
    id: 'x',
    workflowId: 'w',
    workflowVersion: 1,
    status,
    inputs: {},
    outputs: null,
    error: null,
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    startedBy: null,
    cancelledBy: null,
    createdAt: '2026-11-22T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    temporal: { workflowId: 'tenant/t/execution/x', runId: null, uiUrl: 'http://localhost:8233' },
    nodes,
  } as ExecutionView;
}

function nodeRow(nodeId: string, type: string, attempts: number, status: NodeExecutionView['status'] = 'succeeded'): NodeExecutionView {
  const at = '2026-11-22T00:00:01.000Z';
  return { nodeId, type, status, attempts, input: {}, output: {}, error: null, usage: null, startedAt: at, finishedAt: at };
}

const GRAPH = { nodes: ['start', 'draft', 'review', 'reject_path', 'out'].map((id) => ({ id, type: id === 'draft' ? 'agent' : 'transform' })), edges: [] };

/** Opens run x of a five-node graph, read with the given row (or rows, one per read). */
async function openRun(...rows: (ExecutionView | Promise<ExecutionView>)[]): Promise<ReturnType<typeof useRunStore>> {
  api.answers.set(READ, () => Promise.resolve(rows.length > 1 ? rows.shift() : rows[0]));
  api.answers.set('GET /api/v1/workflows/w/versions', { items: [{ version: 1, graph: GRAPH }] });
  const run = useRunStore();
  await run.open('x');
  return run;
}

function later<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('useRunStore', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    api.answers.clear();
    api.calls.length = 0;
    socket.opts = null;
    seq = 0;
  });

  test('statuses, attempts, handles and previews come from the events alone: no read after the one on open', async () => {
    const run = await openRun(execution('pending'));
    deliver(event('execution.started'), event('node.started', 'start', { attempt: 1 }), event('node.succeeded', 'start', { attempt: 1, preview: '{"topic":"tea"}', outputBytes: 15 }));
    deliver(event('node.started', 'draft', { status: 'running', attempt: 1 }));
    expect(run.live['draft']).toMatchObject({ status: 'running', attempts: 1 });
    deliver(event('node.retrying', 'draft', { attempt: 1, nextAttempt: 2, error: 'busy' }));
    expect(run.live['draft']).toMatchObject({ status: 'running', attempts: 2 });
    deliver(event('node.succeeded', 'draft', { status: 'succeeded', attempt: 2, handle: null, outputBytes: 40, preview: 'A draft about tea' }));
    expect(run.live['draft']).toMatchObject({ status: 'succeeded', attempts: 2, preview: 'A draft about tea', outputBytes: 40 });
    deliver(event('node.waiting', 'review', { status: 'waiting', attempt: 1 }), event('approval.requested', 'review'));
    expect(run.status).toBe('waiting');
    expect(run.live['review']?.status).toBe('waiting');
    deliver(event('approval.decided', 'review', { outcome: 'approved' }), event('node.succeeded', 'review', { attempt: 1, handle: 'approved' }));
    expect(run.live['review']).toMatchObject({ status: 'succeeded', handle: 'approved' });
    expect(run.status).toBe('running');
    deliver(event('node.skipped', 'reject_path'), event('node.succeeded', 'out', { preview: 'Published' }), event('execution.succeeded', undefined, { outputs: { out: 'Published' } }));
    expect(run.status).toBe('succeeded');
    expect(run.finished).toBe(true);
    expect(run.outputs).toEqual({ out: 'Published' });
    expect(run.live['reject_path']?.status).toBe('skipped');
    expect(run.events.map((e) => e.seq)).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
    await settle();
    expect(reads()).toBe(1);
  });

  test('execution.timed_out ends the run: finished, the approval failed, what was open cancelled', async () => {
    const run = await openRun(execution('running', [nodeRow('start', 'trigger', 1)]));
    deliver(
      event('execution.started'),
      event('node.waiting', 'review'),
      event('node.failed', 'review', { attempt: 1, error: 'approval review was not decided within 5 s', code: 'APPROVAL_TIMED_OUT' }),
      event('execution.timed_out', undefined, { error: { code: 'APPROVAL_TIMED_OUT', message: 'approval review was not decided within 5 s', nodeId: 'review' } }),
    );
    expect(run.status).toBe('timed_out');
    expect(run.finished).toBe(true);
    expect(run.error).toMatchObject({ code: 'APPROVAL_TIMED_OUT', nodeId: 'review' });
    expect(run.live['review']).toMatchObject({ status: 'failed', error: { code: 'APPROVAL_TIMED_OUT' } });
    expect(run.live['start']?.status).toBe('succeeded');
    expect(run.live['out']?.status).toBe('cancelled');
    await settle();
    expect(reads()).toBe(1);
  });

  test('a gap in the sequence triggers exactly one read, and the rows fill what was missed', async () => {
    const gapRead = later<ExecutionView>();
    const run = await openRun(execution('running'), gapRead.promise);
    deliver(event('execution.started'));
    seq += 2; // events 2 and 3 never arrive
    deliver(event('node.started', 'draft', { attempt: 1 }));
    seq += 1;
    deliver(event('node.waiting', 'review')); // a second gap while the read is under way
    expect(reads()).toBe(2);
    gapRead.resolve(execution('waiting', [nodeRow('start', 'trigger', 1), nodeRow('draft', 'agent', 1, 'running'), nodeRow('review', 'approval', 1, 'waiting')]));
    await settle();
    expect(run.live['start']?.status).toBe('succeeded');
    expect(run.live['draft']?.status).toBe('running');
    expect(run.status).toBe('waiting');
    deliver(event('node.succeeded', 'review', { handle: 'approved' }));
    await settle();
    expect(reads()).toBe(2);
  });

  test('an event delivered twice (a replay after a reconnect) is folded and listed once', async () => {
    const run = await openRun(execution('running'));
    deliver(event('execution.started'));
    const started = event('node.started', 'draft', { attempt: 1 });
    deliver(started, started);
    expect(run.events.map((e) => e.seq)).toEqual([1, 2]);
  });

  test('a reconnect reads the run once; the first connection does not', async () => {
    await openRun(execution('running'));
    socket.opts!.onState!('connecting');
    socket.opts!.onState!('live');
    expect(reads()).toBe(1);
    socket.opts!.onState!('connecting');
    socket.opts!.onState!('live');
    await settle();
    expect(reads()).toBe(2);
  });

  test('opening a run shows the statuses its rows recorded before any event arrives', async () => {
    const run = await openRun(execution('succeeded', [nodeRow('start', 'trigger', 1), nodeRow('draft', 'agent', 2)]));
    expect(run.live['start']).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(run.live['draft']).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(run.live['out']).toMatchObject({ status: 'cancelled', attempts: 0 });
    expect(run.finished).toBe(true);
    // The replay of the log from the start moves nothing back.
    deliver(event('execution.started'), event('node.started', 'draft', { attempt: 1 }));
    expect(run.live['draft']?.status).toBe('succeeded');
    expect(run.events).toHaveLength(2);
    run.close();
  });

  test('a row read before the run was cancelled does not bring the run or its nodes back', async () => {
    const stale = later<ExecutionView>();
    const run = await openRun(execution('waiting', [nodeRow('review', 'approval', 1, 'waiting')]), stale.promise);
    const reading = run.refetch();
    // The end arrives over the socket while that read is under way (a slow request on a busy machine).
    deliver(event('execution.cancelled'));
    stale.resolve(execution('waiting', [nodeRow('review', 'approval', 1, 'waiting')]));
    await reading;
    expect(run.status).toBe('cancelled');
    expect(run.finished).toBe(true);
    expect(run.live['review']?.status).toBe('cancelled');
    run.close();
  });

  test('of two reads under way, the one started last wins, whichever answers last', async () => {
    const older = later<ExecutionView>();
    const newer = later<ExecutionView>();
    const run = await openRun(execution('running'), older.promise, newer.promise);
    const first = run.refetch();
    const second = run.refetch();
    newer.resolve(execution('waiting', [nodeRow('review', 'approval', 1, 'waiting')]));
    await second;
    older.resolve(execution('running', [nodeRow('review', 'approval', 1, 'running')]));
    await first;
    expect(run.status).toBe('waiting');
    expect(run.nodeDetails('review')?.status).toBe('waiting');
  });
});
