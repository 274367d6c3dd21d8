// The run store's reading of the event stream: node colours, attempts, waiting and the run's own status.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import type { ExecutionEvent, ExecutionView, NodeExecutionView } from '../api/types';
import { useRunStore } from './run';

// An answer is a value, or a function that gives each call its own promise (to answer calls out of order).
const api = vi.hoisted(() => ({ answers: new Map<string, unknown>() }));
vi.mock('../api/client', () => ({
  apiRequest: (method: string, path: string) => {
    const answer = api.answers.get(`${method} ${path}`);
    return typeof answer === 'function' ? (answer as () => Promise<unknown>)() : Promise.resolve(answer);
  },
  bindSession: () => undefined,
  describeError: String,
}));
// No hub in this test: the socket never delivers, as when it is slow to connect or cannot.
vi.mock('../api/run-socket', () => ({
  RunSocket: class {
    close(): void {}
  },
}));

let seq = 0;
function event(type: string, nodeId?: string, data?: Record<string, unknown>): ExecutionEvent {
  seq += 1;
  return { seq, executionId: 'x', type, at: new Date().toISOString(), ...(nodeId ? { nodeId } : {}), ...(data ? { data } : {}) };
}

/** A run as GET /executions/:id answers before any event. */
function execution(status: ExecutionView['status']): ExecutionView {
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
  };
}

function nodeRow(nodeId: string, type: string, attempts: number, status: NodeExecutionView['status'] = 'succeeded'): NodeExecutionView {
  const at = '2026-11-22T00:00:01.000Z';
  return { nodeId, type, status, attempts, input: {}, output: {}, error: null, usage: null, startedAt: at, finishedAt: at };
}

/** Answers GET /executions/x with the given promises, one per call, in the order the calls are made. */
function answerReadsWith(...answers: Promise<ExecutionView>[]): void {
  api.answers.set('GET /api/v1/executions/x', () => answers.shift());
}

function later<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('useRunStore', () => {
  beforeEach(() => setActivePinia(createPinia()));

  test('events colour nodes, count attempts and mark the run waiting and then succeeded', () => {
    const run = useRunStore();
    run.execution = execution('pending');
    run.apply(event('execution.started'));
    run.apply(event('node.started', 'draft', { attempt: 1 }));
    expect(run.live['draft']).toEqual({ status: 'running', attempts: 1 });
    run.apply(event('node.retrying', 'draft', { attempt: 2 }));
    run.apply(event('node.succeeded', 'draft'));
    expect(run.live['draft']).toEqual({ status: 'succeeded', attempts: 2 });
    run.apply(event('node.waiting', 'review'));
    expect(run.status).toBe('waiting');
    expect(run.live['review']?.status).toBe('waiting');
    run.apply(event('node.skipped', 'reject_path'));
    run.apply(event('execution.succeeded'));
    expect(run.status).toBe('succeeded');
    expect(run.finished).toBe(true);
    expect(run.live['reject_path']?.status).toBe('skipped');
  });

  test('a cancelled run marks unfinished nodes cancelled', () => {
    const run = useRunStore();
    run.execution = execution('running');
    run.live = { a: { status: 'succeeded', attempts: 1 }, b: { status: 'running', attempts: 1 }, c: { status: 'pending', attempts: 0 } };
    run.apply(event('execution.cancelled'));
    expect(Object.values(run.live).map((n) => n.status)).toEqual(['succeeded', 'cancelled', 'cancelled']);
  });

  test('opening a run shows the statuses its rows recorded before any event arrives', async () => {
    const view: ExecutionView = {
      ...execution('succeeded'),
      nodes: [nodeRow('start', 'trigger', 1), nodeRow('draft', 'agent', 2)],
    };
    api.answers.set('GET /api/v1/executions/x', view);
    api.answers.set('GET /api/v1/workflows/w/versions', {
      items: [{ version: 1, graph: { nodes: [{ id: 'start', type: 'trigger' }, { id: 'draft', type: 'agent' }, { id: 'never', type: 'output' }], edges: [] } }],
    });
    const run = useRunStore();
    await run.open('x');
    expect(run.live).toEqual({
      start: { status: 'succeeded', attempts: 1 },
      draft: { status: 'succeeded', attempts: 2 },
      never: { status: 'pending', attempts: 0 },
    });
    expect(run.finished).toBe(true);
    run.close();
  });

  test('a row read before the run was cancelled does not bring the run or its nodes back', async () => {
    const run = useRunStore();
    run.execution = execution('waiting');
    run.live = { review: { status: 'waiting', attempts: 1 } };
    const stale = later<ExecutionView>();
    answerReadsWith(stale.promise);
    const reading = run.refetch();
    // The end arrives over the socket while that read is under way (a slow request on a busy machine).
    run.apply(event('execution.cancelled'));
    stale.resolve({ ...execution('waiting'), nodes: [nodeRow('review', 'approval', 1, 'waiting')] });
    await reading;
    expect(run.status).toBe('cancelled');
    expect(run.finished).toBe(true);
    expect(run.live['review']?.status).toBe('cancelled');
    run.close();
  });

  test('of two reads under way, the one started last wins, whichever answers last', async () => {
    const run = useRunStore();
    run.execution = execution('running');
    const older = later<ExecutionView>();
    const newer = later<ExecutionView>();
    answerReadsWith(older.promise, newer.promise);
    const first = run.refetch();
    const second = run.refetch();
    newer.resolve({ ...execution('waiting'), nodes: [nodeRow('review', 'approval', 1, 'waiting')] });
    await second;
    older.resolve({ ...execution('running'), nodes: [nodeRow('review', 'approval', 1, 'running')] });
    await first;
    expect(run.status).toBe('waiting');
    expect(run.nodeDetails('review')?.status).toBe('waiting');
  });
});

