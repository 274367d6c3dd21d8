import { compileGraph } from './compile';
import type { ExecutionView, NodeExecutionView } from './api-views';
import type { ExecutionEvent, ExecutionEventType } from './events';
import type { CanvasEdge, CanvasNode } from './graph';
import { jsonBytes } from './limits';
import type { RunPlan } from './plan';
import { initialState, step, type Happening, type RunState } from './run-machine';
import { applyEvent, applyEvents, applyExecution, emptyRunView, type NodeView, type RunView } from './run-view';

const T = '2026-01-01T00:00:00.000Z';
const T2 = '2026-01-01T00:00:02.000Z';

/** Events numbered 1, 2, … in the order given. */
function events(...list: [ExecutionEventType, string?, Record<string, unknown>?][]): ExecutionEvent[] {
  return list.map(([type, nodeId, data], i) => ({ seq: i + 1, executionId: 'x', type, at: T2, ...(nodeId ? { nodeId } : {}), ...(data ? { data } : {}) }));
}
const fold = (list: ExecutionEvent[], nodes = ['start', 'a', 'b', 'out']) => applyEvents(emptyRunView(nodes), list);
const node = (view: RunView, id: string): NodeView => view.nodes[id]!;

interface EventCase {
  name: string;
  events: ExecutionEvent[];
  run: RunView['status'];
  /** Fields of nodes that must match. */
  nodes: Record<string, Partial<NodeView>>;
  outputs?: Record<string, unknown> | null;
  error?: RunView['error'];
}

const started: [ExecutionEventType, string?, Record<string, unknown>?] = ['execution.started'];
const eventCases: EventCase[] = [
  { name: 'execution.started: the run is running, its nodes pending', events: events(started), run: 'running', nodes: { a: { status: 'pending', attempts: 0 } } },
  {
    name: 'node.started: running with its attempt and start time',
    events: events(started, ['node.started', 'a', { status: 'running', attempt: 1, handle: null }]),
    run: 'running',
    nodes: { a: { status: 'running', attempts: 1, startedAt: T2, finishedAt: null } },
  },
  {
    name: 'node.succeeded: status, attempt, handle, size and preview from the event alone',
    events: events(started, ['node.started', 'a', { attempt: 1 }], ['node.succeeded', 'a', { status: 'succeeded', attempt: 1, handle: null, outputBytes: 42, preview: 'hello' }]),
    run: 'running',
    nodes: { a: { status: 'succeeded', attempts: 1, handle: null, outputBytes: 42, preview: 'hello', finishedAt: T2 } },
  },
  {
    name: 'a condition: the handle it took',
    events: events(started, ['node.started', 'a', { attempt: 1 }], ['node.succeeded', 'a', { attempt: 1, handle: 'false', outputBytes: 16, preview: '{"result":false}' }]),
    run: 'running',
    nodes: { a: { status: 'succeeded', handle: 'false' } },
  },
  {
    name: 'retries: each node.retrying raises the attempt count to the attempt about to run',
    events: events(
      started,
      ['node.started', 'a', { attempt: 1 }],
      ['node.retrying', 'a', { status: 'running', attempt: 1, nextAttempt: 2, error: 'busy' }],
      ['node.retrying', 'a', { status: 'running', attempt: 2, nextAttempt: 3, error: 'busy' }],
    ),
    run: 'running',
    nodes: { a: { status: 'running', attempts: 3, startedAt: T2 } },
  },
  {
    name: 'retries, then success: the success keeps the count',
    events: events(started, ['node.started', 'a', { attempt: 1 }], ['node.retrying', 'a', { attempt: 1, nextAttempt: 2 }], ['node.succeeded', 'a', { attempt: 2, preview: 'ok', outputBytes: 4 }]),
    run: 'running',
    nodes: { a: { status: 'succeeded', attempts: 2, preview: 'ok' } },
  },
  {
    name: 'a retry event of an older run (no nextAttempt) still counts the next attempt',
    events: events(started, ['node.started', 'a', { attempt: 1 }], ['node.retrying', 'a', { attempt: 1, error: 'busy' }]),
    run: 'running',
    nodes: { a: { status: 'running', attempts: 2 } },
  },
  {
    name: 'node.failed: the error as {code, message} and the attempts it took',
    events: events(started, ['node.started', 'a', { attempt: 1 }], ['node.retrying', 'a', { attempt: 1, nextAttempt: 2 }], ['node.failed', 'a', { status: 'failed', attempt: 2, handle: null, error: 'boom', code: 'AGENT_FAILED' }]),
    run: 'running',
    nodes: { a: { status: 'failed', attempts: 2, error: { code: 'AGENT_FAILED', message: 'boom' } } },
  },
  {
    name: 'node.failed of an older run (message only): NODE_ERROR',
    events: events(started, ['node.failed', 'a', { error: 'boom' }]),
    run: 'running',
    nodes: { a: { status: 'failed', attempts: 1, error: { code: 'NODE_ERROR', message: 'boom' } } },
  },
  { name: 'node.skipped: skipped, no attempt', events: events(started, ['node.skipped', 'b', { status: 'skipped', attempt: 0, handle: null }]), run: 'running', nodes: { b: { status: 'skipped', attempts: 0, startedAt: null } } },
  {
    name: 'approval waiting: the node waits and so does the run',
    events: events(started, ['node.waiting', 'a', { status: 'waiting', attempt: 1 }], ['approval.requested', 'a', { approvalId: 'p', title: 'Ship?' }]),
    run: 'waiting',
    nodes: { a: { status: 'waiting', attempts: 1 } },
  },
  {
    name: 'approval decided without an outcome (a quorum not met): still waiting',
    events: events(started, ['node.waiting', 'a'], ['approval.requested', 'a'], ['approval.decided', 'a', { decision: 'approve', outcome: null, count: 1 }]),
    run: 'waiting',
    nodes: { a: { status: 'waiting' } },
  },
  {
    name: 'approval decided: the node succeeds with the decision as its handle and the run goes on',
    events: events(
      started,
      ['node.waiting', 'a'],
      ['approval.requested', 'a'],
      ['approval.decided', 'a', { decision: 'approve', outcome: 'approved', count: 1 }],
      ['node.succeeded', 'a', { status: 'succeeded', attempt: 1, handle: 'approved', outputBytes: 30, preview: '{"decision":"approved"}' }],
    ),
    run: 'running',
    nodes: { a: { status: 'succeeded', handle: 'approved', attempts: 1 } },
  },
  {
    name: 'one of two approvals decided: the run still waits on the other',
    events: events(started, ['node.waiting', 'a'], ['node.waiting', 'b'], ['node.succeeded', 'a', { handle: 'approved' }]),
    run: 'waiting',
    nodes: { a: { status: 'succeeded' }, b: { status: 'waiting' } },
  },
  {
    name: 'execution.timed_out ends the run: the approval failed, what was open is cancelled',
    events: events(
      started,
      ['node.succeeded', 'start', { attempt: 1 }],
      ['node.waiting', 'a'],
      ['approval.timed_out', 'a', { onTimeout: 'fail' }],
      ['node.failed', 'a', { attempt: 1, error: 'approval a was not decided within 5 s', code: 'APPROVAL_TIMED_OUT' }],
      ['execution.timed_out', undefined, { error: { code: 'APPROVAL_TIMED_OUT', message: 'approval a was not decided within 5 s', nodeId: 'a' } }],
    ),
    run: 'timed_out',
    nodes: { start: { status: 'succeeded' }, a: { status: 'failed', error: { code: 'APPROVAL_TIMED_OUT', message: 'approval a was not decided within 5 s' } }, b: { status: 'cancelled' }, out: { status: 'cancelled' } },
    error: { code: 'APPROVAL_TIMED_OUT', message: 'approval a was not decided within 5 s', nodeId: 'a' },
  },
  {
    name: 'execution.cancelled: running and pending nodes are cancelled, finished ones stay',
    events: events(started, ['node.succeeded', 'start'], ['node.started', 'a', { attempt: 1 }], ['execution.cancelled']),
    run: 'cancelled',
    nodes: { start: { status: 'succeeded' }, a: { status: 'cancelled', attempts: 1, finishedAt: T2 }, b: { status: 'cancelled' }, out: { status: 'cancelled' } },
  },
  {
    name: 'execution.failed: the run error; a sibling still running is cancelled (fan-out)',
    events: events(started, ['node.started', 'a'], ['node.started', 'b'], ['node.failed', 'a', { error: 'boom', code: 'AGENT_FAILED' }], ['execution.failed', undefined, { error: { code: 'AGENT_FAILED', message: 'boom', nodeId: 'a' } }]),
    run: 'failed',
    nodes: { a: { status: 'failed' }, b: { status: 'cancelled' } },
    error: { code: 'AGENT_FAILED', message: 'boom', nodeId: 'a' },
  },
  {
    name: 'execution.succeeded: the outputs from the event',
    events: events(started, ['node.succeeded', 'out', { preview: 'x' }], ['execution.succeeded', undefined, { outputs: { out: 'x' } }]),
    run: 'succeeded',
    nodes: { out: { status: 'succeeded' } },
    outputs: { out: 'x' },
  },
  {
    name: 'after the end nothing changes: a late report of a stopped node is ignored',
    events: events(started, ['node.started', 'a'], ['execution.cancelled'], ['node.succeeded', 'a', { preview: 'late' }], ['execution.started']),
    run: 'cancelled',
    nodes: { a: { status: 'cancelled', preview: null } },
  },
  {
    name: 'a finished node stays finished',
    events: events(started, ['node.started', 'a', { attempt: 1 }], ['node.succeeded', 'a', { attempt: 1, preview: 'one' }], ['node.started', 'a', { attempt: 1 }], ['node.failed', 'a', { error: 'x' }]),
    run: 'running',
    nodes: { a: { status: 'succeeded', preview: 'one', error: null } },
  },
  {
    name: 'events of a node the view did not know add it',
    events: events(started, ['node.started', 'later', { attempt: 1 }]),
    run: 'running',
    nodes: { later: { status: 'running', attempts: 1 } },
  },
  { name: 'events of another kind (exports, reminders) change nothing', events: events(started, ['approval.reminded', 'a', { reminder: 1 }], ['export.started']), run: 'running', nodes: { a: { status: 'pending' } } },
];

describe('run view: what each event means', () => {
  test.each(eventCases)('$name', (c) => {
    const { view, gap } = fold(c.events);
    expect(gap).toBe(false);
    expect(view.status).toBe(c.run);
    expect(view.lastSeq).toBe(c.events.length);
    for (const [id, fields] of Object.entries(c.nodes)) expect(node(view, id)).toMatchObject(fields);
    if (c.outputs !== undefined) expect(view.outputs).toEqual(c.outputs);
    if (c.error !== undefined) expect(view.error).toEqual(c.error);
  });
});

/** Events numbered 1, 2, … each at its own second of the clock: [type, nodeId, data, second]. */
function timedEvents(...list: [ExecutionEventType, string | undefined, Record<string, unknown> | undefined, number][]): ExecutionEvent[] {
  return list.map(([type, nodeId, data, second], i) => ({
    seq: i + 1,
    executionId: 'x',
    type,
    at: new Date(Date.parse(T) + second * 1000).toISOString(),
    ...(nodeId ? { nodeId } : {}),
    ...(data ? { data } : {}),
  }));
}
const at = (second: number) => new Date(Date.parse(T) + second * 1000).toISOString();
const usage = { inputTokens: 10, outputTokens: 3, totalTokens: 13 };
const callStarted = (round: number, callId: string, extra: Record<string, unknown> = {}) => ({ status: 'running', callStatus: 'running', round, callId, tool: 'lookup', arguments: { q: 'tea' }, ...extra });
const callEnded = (round: number, callId: string, extra: Record<string, unknown>) => ({ status: 'running', round, callId, tool: 'lookup', arguments: { q: 'tea' }, ...extra });
const modelAnswered = (round: number, extra: Record<string, unknown> = {}) => ({ status: 'running', round, attempt: 1, usage, model: 'm-1', toolCalls: ['lookup'], preview: '', ...extra });

interface RoundCase {
  name: string;
  events: ExecutionEvent[];
  /** The node's status and rounds (each matched field by field). */
  status: NodeView['status'];
  rounds: unknown[];
}

const roundCases: RoundCase[] = [
  { name: 'an agent without tools has no rounds', events: timedEvents(['node.started', 'a', { attempt: 1 }, 0], ['node.succeeded', 'a', { attempt: 1, preview: 'hi' }, 1]), status: 'succeeded', rounds: [] },
  {
    name: 'model_call.succeeded: the round, its model, usage, the tools asked for and the time since the node started',
    events: timedEvents(['node.started', 'a', { attempt: 1 }, 0], ['model_call.succeeded', 'a', modelAnswered(1), 2]),
    status: 'running',
    rounds: [{ round: 1, model: { status: 'succeeded', attempts: 1, model: 'm-1', usage, toolNames: ['lookup'], durationMs: 2000, startedAt: at(0), finishedAt: at(2) }, calls: [] }],
  },
  {
    name: 'tool_call.started: the call runs with its name and arguments',
    events: timedEvents(['node.started', 'a', { attempt: 1 }, 0], ['model_call.succeeded', 'a', modelAnswered(1), 1], ['tool_call.started', 'a', callStarted(1, 'c1'), 1]),
    status: 'running',
    rounds: [{ round: 1, calls: [{ id: 'c1', name: 'lookup', arguments: { q: 'tea' }, status: 'running', durationMs: null, startedAt: at(1), finishedAt: null }] }],
  },
  {
    name: 'a call that waits for a person is awaiting approval',
    events: timedEvents(['node.started', 'a', { attempt: 1 }, 0], ['model_call.succeeded', 'a', modelAnswered(1), 1], ['tool_call.started', 'a', callStarted(1, 'c1', { callStatus: 'waiting' }), 1]),
    status: 'running',
    rounds: [{ round: 1, calls: [{ id: 'c1', status: 'awaiting_approval' }] }],
  },
  {
    name: 'tool_call.succeeded: status, duration, size and preview of the result',
    events: timedEvents(
      ['node.started', 'a', { attempt: 1 }, 0],
      ['model_call.succeeded', 'a', modelAnswered(1), 1],
      ['tool_call.started', 'a', callStarted(1, 'c1'), 1],
      ['tool_call.succeeded', 'a', callEnded(1, 'c1', { callStatus: 'succeeded', durationMs: 420, outputBytes: 30, preview: '{"answer":"about tea"}' }), 2],
    ),
    status: 'running',
    rounds: [{ round: 1, calls: [{ id: 'c1', status: 'succeeded', durationMs: 420, resultBytes: 30, preview: '{"answer":"about tea"}', error: null, finishedAt: at(2) }] }],
  },
  {
    name: 'tool_call.failed: the error the model is told',
    events: timedEvents(
      ['node.started', 'a', { attempt: 1 }, 0],
      ['model_call.succeeded', 'a', modelAnswered(1), 1],
      ['tool_call.started', 'a', callStarted(1, 'c1'), 1],
      ['tool_call.failed', 'a', callEnded(1, 'c1', { callStatus: 'failed', durationMs: 0, error: 'arguments do not fit the schema' }), 1],
    ),
    status: 'running',
    rounds: [{ round: 1, calls: [{ id: 'c1', status: 'failed', durationMs: 0, error: 'arguments do not fit the schema', preview: null }] }],
  },
  {
    name: 'parallel calls keep the order they started in, whichever ends first',
    events: timedEvents(
      ['node.started', 'a', { attempt: 1 }, 0],
      ['model_call.succeeded', 'a', modelAnswered(1, { toolCalls: ['lookup', 'lookup'] }), 1],
      ['tool_call.started', 'a', callStarted(1, 'c1'), 1],
      ['tool_call.started', 'a', callStarted(1, 'c2'), 1],
      ['tool_call.succeeded', 'a', callEnded(1, 'c2', { durationMs: 100, outputBytes: 2, preview: '{}' }), 2],
    ),
    status: 'running',
    rounds: [{ round: 1, calls: [{ id: 'c1', status: 'running' }, { id: 'c2', status: 'succeeded' }] }],
  },
  {
    name: "round 2's model call is timed from round 1's last call's end",
    events: timedEvents(
      ['node.started', 'a', { attempt: 1 }, 0],
      ['model_call.succeeded', 'a', modelAnswered(1), 1],
      ['tool_call.started', 'a', callStarted(1, 'c1'), 1],
      ['tool_call.succeeded', 'a', callEnded(1, 'c1', { durationMs: 1000, outputBytes: 2, preview: '{}' }), 2],
      ['model_call.succeeded', 'a', modelAnswered(2, { toolCalls: [], preview: 'done' }), 5],
      ['node.succeeded', 'a', { attempt: 1, preview: 'done' }, 5],
    ),
    status: 'succeeded',
    rounds: [
      { round: 1, model: { durationMs: 1000 }, calls: [{ id: 'c1', status: 'succeeded' }] },
      { round: 2, model: { status: 'succeeded', durationMs: 3000, toolNames: [], preview: 'done', startedAt: at(2) }, calls: [] },
    ],
  },
  {
    name: "a retried model call counts its attempts in its round; the node's attempts are the machine's",
    events: timedEvents(
      ['node.started', 'a', { attempt: 1 }, 0],
      ['node.retrying', 'a', { status: 'running', round: 1, attempt: 1, nextAttempt: 2, error: 'busy' }, 1],
      ['model_call.succeeded', 'a', modelAnswered(1, { attempt: 2 }), 2],
    ),
    status: 'running',
    rounds: [{ round: 1, model: { status: 'succeeded', attempts: 2 } }],
  },
  {
    name: 'an event seen again (by its call id) does not add a call; a late started does not move an ended call back',
    events: timedEvents(
      ['node.started', 'a', { attempt: 1 }, 0],
      ['tool_call.started', 'a', callStarted(1, 'c1'), 1],
      ['tool_call.succeeded', 'a', callEnded(1, 'c1', { durationMs: 5, outputBytes: 2, preview: '{}' }), 1],
      ['tool_call.started', 'a', callStarted(1, 'c1'), 1],
    ),
    status: 'running',
    rounds: [{ round: 1, calls: [{ id: 'c1', status: 'succeeded' }] }],
  },
  {
    name: 'events without a round or call id change nothing, nor do steps after the node ended',
    events: timedEvents(
      ['node.started', 'a', { attempt: 1 }, 0],
      ['tool_call.started', 'a', { tool: 'lookup' }, 1],
      ['tool_call.started', 'a', { round: 1, tool: 'lookup' }, 1],
      ['node.failed', 'a', { attempt: 1, error: 'boom', code: 'AGENT_FAILED' }, 2],
      ['model_call.succeeded', 'a', modelAnswered(1), 3],
    ),
    status: 'failed',
    rounds: [],
  },
];

describe("run view: a tool-using agent's rounds", () => {
  test.each(roundCases)('$name', (c) => {
    const view = applyEvents(emptyRunView(['a']), c.events).view;
    expect(node(view, 'a').status).toBe(c.status);
    expect(node(view, 'a').rounds).toMatchObject(c.rounds);
    expect(node(view, 'a').rounds).toHaveLength(c.rounds.length);
  });

  test('a read of the run keeps the rounds the events told', () => {
    const folded = applyEvents(emptyRunView(['a']), roundCases[4]!.events).view;
    const read = applyExecution(folded, row('running', [{ nodeId: 'a', status: 'succeeded', attempts: 1, output: { text: 'x' } }]));
    expect(node(read, 'a').rounds).toEqual(node(folded, 'a').rounds);
  });
});

describe('run view: sequence', () => {
  const list = events(started, ['node.started', 'a', { attempt: 1 }], ['node.succeeded', 'a', { preview: 'p' }], ['execution.succeeded', undefined, { outputs: {} }]);

  test('an event seen again (a replay after a reconnect) changes nothing', () => {
    const once = fold(list.slice(0, 2)).view;
    const again = applyEvent(once, list[1]!);
    expect(again).toEqual({ view: once, gap: false });
    expect(again.view).toBe(once);
  });

  test('a seq that skips ahead is a gap: folded, and flagged once', () => {
    const first = fold(list.slice(0, 1)).view;
    const skipped = applyEvent(first, list[2]!);
    expect(skipped.gap).toBe(true);
    expect(skipped.view.lastSeq).toBe(3);
    expect(node(skipped.view, 'a').status).toBe('succeeded');
    const next = applyEvent(skipped.view, list[3]!);
    expect(next.gap).toBe(false);
    expect(next.view.status).toBe('succeeded');
    expect(applyEvents(first, list.slice(2)).gap).toBe(true);
  });

  test('the input view is left as it was', () => {
    const before = fold(list.slice(0, 1)).view;
    const copy = structuredClone(before);
    applyEvents(before, list.slice(1));
    expect(before).toEqual(copy);
  });
});

function row(status: ExecutionView['status'], nodes: Partial<NodeExecutionView>[], extra: Partial<ExecutionView> = {}): Pick<ExecutionView, 'status' | 'outputs' | 'error' | 'nodes'> {
  return {
    status,
    outputs: null,
    error: null,
    nodes: nodes.map((n) => ({ nodeId: 'a', type: 'agent', status: 'pending', attempts: 0, input: null, output: null, error: null, usage: null, startedAt: null, finishedAt: null, ...n })),
    ...extra,
  };
}

describe('run view: a read of the run folded in', () => {
  test('the rows fill what missed events said: statuses, attempts, size and preview of the output', () => {
    const view = applyExecution(fold(events(started)).view, row('running', [{ nodeId: 'a', status: 'succeeded', attempts: 2, output: { text: 'hi there' }, startedAt: T, finishedAt: T2 }, { nodeId: 'b', status: 'running', attempts: 1 }]));
    expect(node(view, 'a')).toMatchObject({ status: 'succeeded', attempts: 2, preview: 'hi there', outputBytes: 19, startedAt: T, finishedAt: T2 });
    expect(node(view, 'b')).toMatchObject({ status: 'running', attempts: 1 });
    expect(view.status).toBe('running');
    expect(view.lastSeq).toBe(1);
  });

  test('a read older than the events moves nothing back', () => {
    const live = fold(events(started, ['node.started', 'a', { attempt: 1 }], ['node.retrying', 'a', { attempt: 1, nextAttempt: 2 }], ['node.succeeded', 'a', { attempt: 2, preview: 'p' }], ['node.waiting', 'b'])).view;
    const view = applyExecution(live, row('running', [{ nodeId: 'a', status: 'running', attempts: 1 }, { nodeId: 'b', status: 'pending' }]));
    expect(node(view, 'a')).toMatchObject({ status: 'succeeded', attempts: 2, preview: 'p' });
    expect(node(view, 'b').status).toBe('waiting');
    expect(view.status).toBe('waiting');
  });

  test('a run its events ended stays ended whatever a lagging read says', () => {
    const ended = fold(events(started, ['node.waiting', 'a'], ['execution.cancelled'])).view;
    const view = applyExecution(ended, row('waiting', [{ nodeId: 'a', status: 'waiting', attempts: 1 }]));
    expect(view.status).toBe('cancelled');
    expect(node(view, 'a').status).toBe('cancelled');
  });

  test('a read that says the run ended ends it, with its outputs and error', () => {
    const view = applyExecution(fold(events(started)).view, row('failed', [{ nodeId: 'a', status: 'failed', attempts: 1, error: { code: 'AGENT_FAILED', message: 'boom', nodeId: 'a' } }], { error: { code: 'AGENT_FAILED', message: 'boom', nodeId: 'a' } }));
    expect(view.status).toBe('failed');
    expect(view.error).toEqual({ code: 'AGENT_FAILED', message: 'boom', nodeId: 'a' });
    expect(node(view, 'a').error).toEqual({ code: 'AGENT_FAILED', message: 'boom' });
    expect(node(view, 'out').status).toBe('cancelled');
  });

  test('a run not started yet stays pending', () => {
    expect(applyExecution(emptyRunView(['a']), row('pending', [])).status).toBe('pending');
  });
});

// Parity with the run machine: fold the events a run records and the view says what the machine's state says.
const trigger = (id: string): CanvasNode => ({ id, type: 'trigger', data: {} });
const agent = (id: string, data: Record<string, unknown> = {}): CanvasNode => ({ id, type: 'agent', data: { provider: 'echo', model: 'echo-1', prompt: `p ${id}`, ...data } }) as CanvasNode;
const condition = (id: string): CanvasNode => ({ id, type: 'condition', data: { expression: 'true' } });
const transform = (id: string): CanvasNode => ({ id, type: 'transform', data: { template: id } });
const approval = (id: string, data: Record<string, unknown> = {}): CanvasNode => ({ id, type: 'approval', data: { title: 't', ...data } }) as CanvasNode;
const output = (id: string): CanvasNode => ({ id, type: 'output', data: { value: id } });
const edge = (source: string, target: string, sourceHandle?: string): CanvasEdge => ({ id: `${source}-${target}`, source, target, sourceHandle });
const plan = (nodes: CanvasNode[], edges: CanvasEdge[]): RunPlan => compileGraph({ nodes, edges }, { workflowId: 'wf', workflowVersion: 1 });
const evaluated = (values: Record<string, Record<string, unknown>>): Happening => ({
  type: 'evaluated',
  at: T,
  results: Object.fromEntries(Object.entries(values).map(([id, v]) => [id, { status: 'evaluated' as const, values: v, bytes: 10 }])),
});
const succeeded = (nodeId: string, attempt = 1): Happening => ({ type: 'nodeSucceeded', at: T, nodeId, attempt, output: { text: `out ${nodeId}`, usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } } });
const failed = (nodeId: string, attempt: number, retryable: boolean): Happening => ({ type: 'nodeFailed', at: T, nodeId, attempt, code: 'AGENT_FAILED', message: 'boom', retryable });

const chain = plan([trigger('start'), agent('a', { retry: { maximumAttempts: 3, initialIntervalSeconds: 1 } }), output('out')], [edge('start', 'a'), edge('a', 'out')]);
const siblings = plan([trigger('start'), agent('a'), agent('b'), output('out')], [edge('start', 'a'), edge('start', 'b'), edge('a', 'out'), edge('b', 'out')]);
const branch = plan([trigger('start'), condition('check'), transform('yes'), transform('no'), output('out')], [edge('start', 'check'), edge('check', 'yes', 'true'), edge('check', 'no', 'false'), edge('yes', 'out'), edge('no', 'out')]);
const review = (data: Record<string, unknown> = {}) => plan([trigger('start'), approval('r', data), output('out')], [edge('start', 'r'), edge('r', 'out', 'approved')]);

const machineCases: { name: string; plan: RunPlan; happenings: Happening[] }[] = [
  { name: 'a chain that succeeds', plan: chain, happenings: [evaluated({ a: { prompt: 'p' } }), succeeded('a'), evaluated({ out: { value: 'x' } })] },
  { name: 'retries, then success', plan: chain, happenings: [evaluated({ a: { prompt: 'p' } }), failed('a', 1, true), failed('a', 2, true), succeeded('a', 3)] },
  { name: 'retries in flight', plan: chain, happenings: [evaluated({ a: { prompt: 'p' } }), failed('a', 1, true)] },
  { name: 'retries exhausted', plan: chain, happenings: [evaluated({ a: { prompt: 'p' } }), failed('a', 1, true), failed('a', 2, true), failed('a', 3, true)] },
  { name: 'failure fan-out to a sibling', plan: siblings, happenings: [evaluated({ a: { prompt: 'p' }, b: { prompt: 'q' } }), failed('a', 1, false), succeeded('b')] },
  { name: 'a skipped branch', plan: branch, happenings: [evaluated({ check: { value: false } }), evaluated({ no: { value: 'n' } }), evaluated({ out: { value: 'o' } })] },
  { name: 'waiting on an approval', plan: review(), happenings: [evaluated({ r: { title: 'T' } })] },
  { name: 'an approval rejected', plan: review(), happenings: [evaluated({ r: { title: 'T' } }), { type: 'approvalDecided', at: T, nodeId: 'r', output: { decision: 'rejected' } }] },
  { name: 'an approval timed out (fail)', plan: review({ timeoutSeconds: 5, onTimeout: 'fail' }), happenings: [evaluated({ r: { title: 'T' } }), { type: 'approvalTimedOut', at: T, nodeId: 'r', timeoutSeconds: 5 }] },
  { name: 'cancelled mid-turn', plan: siblings, happenings: [evaluated({ a: { prompt: 'p' }, b: { prompt: 'q' } }), succeeded('a'), { type: 'cancelRequested', at: T }] },
  { name: 'the run failed outside any node', plan: chain, happenings: [{ type: 'runFailed', at: T, message: 'pool down' }] },
];

/** The machine's state as a view shows it: a running run with a node waiting on a person is `waiting`. */
function machineView(state: RunState): { status: string; nodes: Record<string, [string, number, string | null]> } {
  const waiting = Object.values(state.nodes).some((n) => n.status === 'waiting');
  return {
    status: state.status === 'running' && waiting ? 'waiting' : state.status,
    nodes: Object.fromEntries(Object.entries(state.nodes).map(([id, n]) => [id, [n.status, n.attempts, n.handle]])),
  };
}

describe('run view: the same semantics as the run machine', () => {
  test.each(machineCases)('$name', (c) => {
    let state = initialState(c.plan, { topic: 'tea' });
    const recorded: ExecutionEvent[] = [];
    for (const h of [{ type: 'started', at: T } as Happening, ...c.happenings]) {
      const r = step(c.plan, state, h);
      state = r.state;
      for (const e of r.ledger.events) recorded.push({ seq: recorded.length + 1, executionId: 'x', type: e.type, at: e.at, ...(e.nodeId ? { nodeId: e.nodeId } : {}), ...(e.data ? { data: e.data } : {}) });
    }
    const { view, gap } = applyEvents(emptyRunView(c.plan.nodes.map((n) => n.id)), recorded);
    expect(gap).toBe(false);
    expect({ status: view.status, nodes: Object.fromEntries(Object.entries(view.nodes).map(([id, n]) => [id, [n.status, n.attempts, n.handle]])) }).toEqual(machineView(state));
    for (const [id, n] of Object.entries(state.nodes)) {
      if (n.status === 'succeeded') expect(node(view, id).outputBytes).toBe(jsonBytes(state.nodeOutputs[id] ?? null));
    }
  });
});
