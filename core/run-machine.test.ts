import { compileGraph } from './compile';
import type { CanvasEdge, CanvasNode } from './graph';
import type { NodeEvaluationResult } from './evaluation-protocol';
import type { RunPlan } from './plan';
import { initialState, step, type Command, type Happening, type RunState, type StepResult } from './run-machine';
import { feedMachine, nodeStatuses } from '../test/support/machine-steps';
import { ledgerKey } from './run-ledger';

const T = '2026-01-01T00:00:00.000Z';
const trigger = (id: string): CanvasNode => ({ id, type: 'trigger', data: {} });
const agent = (id: string, data: Record<string, unknown> = {}): CanvasNode => ({ id, type: 'agent', data: { provider: 'echo', model: 'echo-1', prompt: `p ${id}`, ...data } } as CanvasNode);
const transform = (id: string): CanvasNode => ({ id, type: 'transform', data: { template: id } });
const condition = (id: string): CanvasNode => ({ id, type: 'condition', data: { expression: 'true' } });
const approval = (id: string, data: Record<string, unknown> = {}): CanvasNode => ({ id, type: 'approval', data: { title: 't', ...data } } as CanvasNode);
const output = (id: string): CanvasNode => ({ id, type: 'output', data: { value: id } });
const edge = (source: string, target: string, sourceHandle?: string): CanvasEdge => ({ id: `${source}-${target}`, source, target, sourceHandle });
const plan = (nodes: CanvasNode[], edges: CanvasEdge[]): RunPlan => compileGraph({ nodes, edges }, { workflowId: 'wf', workflowVersion: 1 });

const evaluated = (values: Record<string, Record<string, unknown>>): Happening => ({
  type: 'evaluated',
  at: T,
  results: Object.fromEntries(Object.entries(values).map(([id, v]): [string, NodeEvaluationResult] => [id, { status: 'evaluated', values: v, bytes: 10 }])),
});
const succeeded = (nodeId: string, attempt = 1): Happening => ({ type: 'nodeSucceeded', at: T, nodeId, attempt, output: { text: `out ${nodeId}`, usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } } });
const failed = (nodeId: string, attempt: number, retryable: boolean, retryAfterMs?: number): Happening => ({
  type: 'nodeFailed', at: T, nodeId, attempt, code: 'AGENT_FAILED', message: 'boom', retryable, ...(retryAfterMs ? { retryAfterMs } : {}),
});

const run = (p: RunPlan, happenings: Happening[]) => feedMachine(p, happenings);
const statuses = nodeStatuses;
const kinds = (commands: Command[]) =>
  commands.map((c) =>
    c.type === 'callAgent'
      ? `callAgent:${c.nodeId}#${c.attempt}@${c.delayMs}`
      : c.type === 'callModel'
        ? `callModel:${c.nodeId}:r${c.round}#${c.attempt}@${c.delayMs}`
        : c.type === 'waitToolApproval'
          ? `waitToolApproval:${c.approvalKey}`
          : c.type === 'callTool'
          ? `callTool:${c.nodeId}:r${c.round}:${c.call.name}:${c.call.id}`
          : c.type === 'finish'
            ? `finish:${c.status}`
            : c.type,
  );
const eventKeys = (steps: StepResult[]) => steps.flatMap((s) => s.ledger.events.map((e) => e.key));

const chain = plan([trigger('start'), agent('a'), output('out')], [edge('start', 'a'), edge('a', 'out')]);
const retried = plan([trigger('start'), agent('a', { retry: { maximumAttempts: 3, initialIntervalSeconds: 2, backoffCoefficient: 3 } }), output('out')], [edge('start', 'a'), edge('a', 'out')]);
const siblings = plan([trigger('start'), agent('a'), agent('b'), output('out')], [edge('start', 'a'), edge('start', 'b'), edge('a', 'out'), edge('b', 'out')]);
const branch = plan([trigger('start'), condition('check'), transform('yes'), transform('no'), output('out')], [edge('start', 'check'), edge('check', 'yes', 'true'), edge('check', 'no', 'false'), edge('yes', 'out'), edge('no', 'out')]);
const lookup = { type: 'http', name: 'lookup', method: 'GET', url: 'http://127.0.0.1/{{args.q}}', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } };
const weather = { type: 'http', name: 'weather', method: 'GET', url: 'http://127.0.0.1/w' };
const toolAgent = (data: Record<string, unknown> = {}) =>
  plan([trigger('start'), agent('a', { provider: 'openai', model: 'm', tools: [lookup, weather], ...data }), output('out')], [edge('start', 'a'), edge('a', 'out')]);
const usage1 = { inputTokens: 1, outputTokens: 2, totalTokens: 3 };
const answered = (round: number, toolCalls: { id: string; name: string; arguments?: unknown; argumentError?: string }[] = [], attempt = 1): Happening => ({
  type: 'modelAnswered',
  at: T,
  nodeId: 'a',
  round,
  attempt,
  answer: { text: toolCalls.length ? '' : `final ${round}`, usage: usage1, model: 'm', provider: 'openai', toolCalls: toolCalls.map((c) => ({ arguments: {}, ...c })) },
});
const toolDone = (round: number, callId: string, outcome: { result?: unknown; error?: string } = { result: { status: 200, body: callId } }): Happening => ({
  type: 'toolDone', at: T, nodeId: 'a', round, callId, durationMs: 5, ...outcome,
});
const startLoop = evaluated({ a: { prompt: 'p' } });

const review = (data: Record<string, unknown> = {}) => plan([trigger('start'), approval('r', data), output('out')], [edge('start', 'r'), edge('r', 'out', 'approved')]);

interface Case {
  name: string;
  plan: RunPlan;
  happenings: Happening[];
  /** Commands of the last step. */
  commands: string[];
  nodes: Record<string, string>;
  status: RunState['status'];
  attempts?: Record<string, number>;
  keys?: (string | undefined)[];
}

const cases: Case[] = [
  { name: 'started: the trigger completes and the next texts are asked for', plan: chain, happenings: [], commands: ['evaluate'], nodes: { start: 'succeeded', a: 'pending', out: 'pending' }, status: 'running' },
  { name: 'evaluated: an agent is called with its rendered prompt', plan: chain, happenings: [evaluated({ a: { prompt: 'p' } })], commands: ['callAgent:a#1@0'], nodes: { start: 'succeeded', a: 'running', out: 'pending' }, status: 'running' },
  {
    name: 'node done, then the output: the run succeeds and records its end in that step',
    plan: chain,
    happenings: [evaluated({ a: { prompt: 'p' } }), succeeded('a'), evaluated({ out: { value: 'x' } })],
    commands: ['finish:succeeded'],
    nodes: { start: 'succeeded', a: 'succeeded', out: 'succeeded' },
    status: 'succeeded',
    keys: [ledgerKey.executionStarted(), 'node:start:started', 'node:start:succeeded', 'node:a:started', 'node:a:succeeded', 'node:out:started', 'node:out:succeeded', 'execution:final'],
  },
  {
    name: 'node failed, retryable: retried after the backoff with the attempt counted',
    plan: retried,
    happenings: [evaluated({ a: { prompt: 'p' } }), failed('a', 1, true), failed('a', 2, true)],
    commands: ['callAgent:a#3@6000'],
    nodes: { start: 'succeeded', a: 'running', out: 'pending' },
    status: 'running',
    attempts: { a: 3 },
  },
  {
    name: 'node retrying honours the provider Retry-After',
    plan: retried,
    happenings: [evaluated({ a: { prompt: 'p' } }), failed('a', 1, true, 750)],
    commands: ['callAgent:a#2@750'],
    nodes: { start: 'succeeded', a: 'running', out: 'pending' },
    status: 'running',
  },
  {
    name: 'node failed on its last attempt: the run fails with the true attempt count',
    plan: retried,
    happenings: [evaluated({ a: { prompt: 'p' } }), failed('a', 1, true), failed('a', 2, true), failed('a', 3, true)],
    commands: ['finish:failed'],
    nodes: { start: 'succeeded', a: 'failed', out: 'cancelled' },
    status: 'failed',
    attempts: { a: 3 },
  },
  {
    name: 'node failed, not retryable: fails at once',
    plan: retried,
    happenings: [evaluated({ a: { prompt: 'p' } }), failed('a', 1, false)],
    commands: ['finish:failed'],
    nodes: { start: 'succeeded', a: 'failed', out: 'cancelled' },
    status: 'failed',
    attempts: { a: 1 },
  },
  {
    name: 'failure fan-out: a failed sibling stops the other turn and cancels what is left',
    plan: siblings,
    happenings: [evaluated({ a: { prompt: 'p' }, b: { prompt: 'q' } }), failed('a', 1, false)],
    commands: ['stopInFlight', 'finish:failed'],
    nodes: { start: 'succeeded', a: 'failed', b: 'cancelled', out: 'cancelled' },
    status: 'failed',
  },
  {
    name: 'a late report of a stopped sibling changes nothing',
    plan: siblings,
    happenings: [evaluated({ a: { prompt: 'p' }, b: { prompt: 'q' } }), failed('a', 1, false), succeeded('b')],
    commands: [],
    nodes: { start: 'succeeded', a: 'failed', b: 'cancelled', out: 'cancelled' },
    status: 'failed',
  },
  {
    name: 'parallel turns: the join waits for both',
    plan: siblings,
    happenings: [evaluated({ a: { prompt: 'p' }, b: { prompt: 'q' } }), succeeded('a')],
    commands: [],
    nodes: { start: 'succeeded', a: 'succeeded', b: 'running', out: 'pending' },
    status: 'running',
  },
  {
    name: 'skips: the untaken branch is skipped, the fan-in still runs',
    plan: branch,
    happenings: [evaluated({ check: { value: true } }), evaluated({ yes: { value: 'y' } }), evaluated({ out: { value: 'o' } })],
    commands: ['finish:succeeded'],
    nodes: { start: 'succeeded', check: 'succeeded', yes: 'succeeded', no: 'skipped', out: 'succeeded' },
    status: 'succeeded',
  },
  {
    name: 'a failed text fails its node with NODE_ERROR',
    plan: branch,
    happenings: [{ type: 'evaluated', at: T, results: { check: { status: 'failed', code: 'EVALUATION_ERROR', message: 'bad' } } }],
    commands: ['finish:failed'],
    nodes: { start: 'succeeded', check: 'failed', yes: 'cancelled', no: 'cancelled', out: 'cancelled' },
    status: 'failed',
  },
  {
    name: 'a deferred result is asked for again',
    plan: siblings,
    happenings: [{ type: 'evaluated', at: T, results: { a: { status: 'evaluated', values: { prompt: 'p' }, bytes: 1 }, b: { status: 'deferred' } } }],
    commands: ['callAgent:a#1@0', 'evaluate'],
    nodes: { start: 'succeeded', a: 'running', b: 'pending', out: 'pending' },
    status: 'running',
  },
  { name: 'wait for an approval', plan: review(), happenings: [evaluated({ r: { title: 'T' } })], commands: ['waitApproval'], nodes: { start: 'succeeded', r: 'waiting', out: 'pending' }, status: 'running' },
  {
    name: 'approval decided: its handle picks the branch',
    plan: review(),
    happenings: [evaluated({ r: { title: 'T' } }), { type: 'approvalDecided', at: T, nodeId: 'r', output: { decision: 'rejected' } }],
    commands: ['finish:succeeded'],
    nodes: { start: 'succeeded', r: 'succeeded', out: 'skipped' },
    status: 'succeeded',
  },
  {
    name: 'approval timed out with onTimeout fail: the run times out',
    plan: review({ timeoutSeconds: 5, onTimeout: 'fail' }),
    happenings: [evaluated({ r: { title: 'T' } }), { type: 'approvalTimedOut', at: T, nodeId: 'r', timeoutSeconds: 5 }],
    commands: ['finish:timed_out'],
    nodes: { start: 'succeeded', r: 'failed', out: 'cancelled' },
    status: 'timed_out',
  },
  {
    name: 'cancel requested while waiting: everything unfinished is cancelled',
    plan: review(),
    happenings: [evaluated({ r: { title: 'T' } }), { type: 'cancelRequested', at: T }],
    commands: ['stopInFlight', 'finish:cancelled'],
    nodes: { start: 'succeeded', r: 'cancelled', out: 'cancelled' },
    status: 'cancelled',
  },
  {
    name: 'cancel requested after the end changes nothing',
    plan: review(),
    happenings: [evaluated({ r: { title: 'T' } }), { type: 'approvalDecided', at: T, nodeId: 'r', output: { decision: 'approved' } }, evaluated({ out: { value: 'x' } }), { type: 'cancelRequested', at: T }],
    commands: [],
    nodes: { start: 'succeeded', r: 'succeeded', out: 'succeeded' },
    status: 'succeeded',
  },
  {
    name: 'run failed outside any node: RUN_ERROR, nodes cancelled',
    plan: chain,
    happenings: [{ type: 'runFailed', at: T, message: 'pool down' }],
    commands: ['finish:failed'],
    nodes: { start: 'succeeded', a: 'cancelled', out: 'cancelled' },
    status: 'failed',
  },
  {
    name: 'an agent with tools: the first model call is round 1 (not the one-turn callAgent)',
    plan: toolAgent(),
    happenings: [startLoop],
    commands: ['callModel:a:r1#1@0'],
    nodes: { start: 'succeeded', a: 'running', out: 'pending' },
    status: 'running',
  },
  {
    name: 'modelAnswered with several tool calls: they all start at once',
    plan: toolAgent(),
    happenings: [startLoop, answered(1, [{ id: 'c1', name: 'lookup', arguments: { q: 'x' } }, { id: 'c2', name: 'weather' }])],
    commands: ['callTool:a:r1:lookup:c1', 'callTool:a:r1:weather:c2'],
    nodes: { start: 'succeeded', a: 'running', out: 'pending' },
    status: 'running',
  },
  {
    name: 'toolDone: the round waits for its last call, then the model is called again',
    plan: toolAgent(),
    happenings: [startLoop, answered(1, [{ id: 'c1', name: 'lookup' }, { id: 'c2', name: 'weather' }]), toolDone(1, 'c2'), toolDone(1, 'c1')],
    commands: ['callModel:a:r2#1@0'],
    nodes: { start: 'succeeded', a: 'running', out: 'pending' },
    status: 'running',
  },
  {
    name: 'a repeated toolDone (a replayed report) changes nothing',
    plan: toolAgent(),
    happenings: [startLoop, answered(1, [{ id: 'c1', name: 'lookup' }, { id: 'c2', name: 'weather' }]), toolDone(1, 'c1'), toolDone(1, 'c1')],
    commands: [],
    nodes: { start: 'succeeded', a: 'running', out: 'pending' },
    status: 'running',
  },
  {
    name: 'bad arguments and unknown tools go back to the model at once, without a tool call',
    plan: toolAgent(),
    happenings: [startLoop, answered(1, [{ id: 'c1', name: 'lookup', argumentError: "(arguments) must have required property 'q'" }, { id: 'c2', name: 'nope' }])],
    commands: ['callModel:a:r2#1@0'],
    nodes: { start: 'succeeded', a: 'running', out: 'pending' },
    status: 'running',
    keys: [
      ledgerKey.executionStarted(),
      'node:start:started',
      'node:start:succeeded',
      'node:a:started',
      ledgerKey.modelCallSucceeded('a', 1),
      ledgerKey.toolCallStarted('a', 1, 'c1'),
      ledgerKey.toolCallEnded('a', 1, 'c1'),
      ledgerKey.toolCallStarted('a', 1, 'c2'),
      ledgerKey.toolCallEnded('a', 1, 'c2'),
    ],
  },
  {
    name: 'a model answer without tool calls: the node succeeds and the run goes on',
    plan: toolAgent(),
    happenings: [startLoop, answered(1, [{ id: 'c1', name: 'lookup' }]), toolDone(1, 'c1'), answered(2)],
    commands: ['evaluate'],
    nodes: { start: 'succeeded', a: 'succeeded', out: 'pending' },
    status: 'running',
  },
  {
    name: 'a model call that fails is retried in its round, with the rounds so far',
    plan: toolAgent({ retry: { maximumAttempts: 3, initialIntervalSeconds: 2 } }),
    happenings: [startLoop, answered(1, [{ id: 'c1', name: 'lookup' }]), toolDone(1, 'c1'), failed('a', 1, true)],
    commands: ['callModel:a:r2#2@2000'],
    nodes: { start: 'succeeded', a: 'running', out: 'pending' },
    status: 'running',
    attempts: { a: 2 },
  },
  {
    name: 'toolApproval: a named tool waits for a person, the others run at once',
    plan: toolAgent({ toolApproval: ['lookup'] }),
    happenings: [startLoop, answered(1, [{ id: 'c1', name: 'lookup' }, { id: 'c2', name: 'weather' }])],
    commands: ['waitToolApproval:a~r1~c1', 'callTool:a:r1:weather:c2'],
    nodes: { start: 'succeeded', a: 'running', out: 'pending' },
    status: 'running',
  },
  {
    name: 'toolApprovalDecided, approved: the call runs',
    plan: toolAgent({ toolApproval: 'all' }),
    happenings: [startLoop, answered(1, [{ id: 'c1', name: 'lookup' }]), { type: 'toolApprovalDecided', at: T, nodeId: 'a', round: 1, callId: 'c1', decision: 'approved', comment: null }],
    commands: ['callTool:a:r1:lookup:c1'],
    nodes: { start: 'succeeded', a: 'running', out: 'pending' },
    status: 'running',
  },
  {
    name: 'toolApprovalDecided, rejected: the refusal goes back to the model as the call’s result',
    plan: toolAgent({ toolApproval: 'all' }),
    happenings: [startLoop, answered(1, [{ id: 'c1', name: 'lookup' }]), { type: 'toolApprovalDecided', at: T, nodeId: 'a', round: 1, callId: 'c1', decision: 'rejected', comment: 'not now' }],
    commands: ['callModel:a:r2#1@0'],
    nodes: { start: 'succeeded', a: 'running', out: 'pending' },
    status: 'running',
  },
  {
    name: 'maxToolRounds reached: the node fails with TOOL_ROUNDS_EXCEEDED',
    plan: toolAgent({ maxToolRounds: 1 }),
    happenings: [startLoop, answered(1, [{ id: 'c1', name: 'lookup' }]), toolDone(1, 'c1'), answered(2, [{ id: 'c2', name: 'lookup' }])],
    commands: ['finish:failed'],
    nodes: { start: 'succeeded', a: 'failed', out: 'cancelled' },
    status: 'failed',
  },
  {
    name: 'a failure elsewhere stops the tool calls in flight',
    plan: plan(
      [trigger('start'), agent('a', { provider: 'openai', model: 'm', tools: [lookup] }), agent('b'), output('out')],
      [edge('start', 'a'), edge('start', 'b'), edge('a', 'out'), edge('b', 'out')],
    ),
    happenings: [evaluated({ a: { prompt: 'p' }, b: { prompt: 'q' } }), answered(1, [{ id: 'c1', name: 'lookup' }]), failed('b', 1, false), toolDone(1, 'c1')],
    commands: [],
    nodes: { start: 'succeeded', a: 'cancelled', b: 'failed', out: 'cancelled' },
    status: 'failed',
  },
];

describe('run machine transitions', () => {
  test.each(cases)('$name', (c) => {
    const { state, steps } = run(c.plan, c.happenings);
    expect(kinds(steps[steps.length - 1]!.commands)).toEqual(c.commands);
    expect(statuses(state)).toEqual(c.nodes);
    expect(state.status).toBe(c.status);
    for (const [id, n] of Object.entries(c.attempts ?? {})) expect(state.nodes[id]!.attempts).toBe(n);
    if (c.keys) expect(eventKeys(steps)).toEqual(c.keys);
    // Every key is written once, whatever the path.
    const keys = eventKeys(steps);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('run machine ledger', () => {
  test('an agent attempt records running with its attempt and input; its success carries status, attempt, size and preview', () => {
    const { steps } = run(retried, [evaluated({ a: { prompt: 'hello' } }), failed('a', 1, true), succeeded('a', 2)]);
    expect(steps[1]!.ledger.nodes).toEqual([{ nodeId: 'a', status: 'running', attempts: 1, input: { system: null, prompt: 'hello' }, startedAt: T }]);
    expect(steps[2]!.ledger.events.map((e) => [e.type, e.data?.attempt])).toEqual([['node.retrying', 1]]);
    expect(steps[2]!.ledger.nodes).toEqual([{ nodeId: 'a', status: 'running', attempts: 2, input: { system: null, prompt: 'hello' } }]);
    const done = steps[3]!.ledger.events.find((e) => e.type === 'node.succeeded')!;
    expect(done.data).toMatchObject({ status: 'succeeded', attempt: 2, preview: 'out a', textPreview: 'out a' });
    expect(done.data!.outputBytes).toBeGreaterThan(0);
    expect(steps[3]!.ledger.nodes[0]).toMatchObject({ nodeId: 'a', status: 'succeeded', attempts: 2 });
  });

  test('the run end is one event and the execution row in the step that finishes', () => {
    const { steps } = run(chain, [evaluated({ a: { prompt: 'p' } }), { type: 'cancelRequested', at: T }]);
    const last = steps[steps.length - 1]!.ledger;
    expect(last.events.map((e) => e.type)).toEqual(['execution.cancelled']);
    expect(last.execution).toEqual({ status: 'cancelled', outputs: {}, finishedAt: T });
    expect(last.nodes.map((n) => [n.nodeId, n.status])).toEqual([['a', 'cancelled'], ['out', 'cancelled']]);
  });

  test('the evaluation gets the run clock and what the run holds; the input state is left as it was', () => {
    const p = chain;
    const s0 = initialState(p, {});
    const r = step(p, s0, { type: 'started', at: T });
    expect(s0.nodes.start!.status).toBe('pending');
    const evaluate = r.commands[0] as Extract<Command, { type: 'evaluate' }>;
    expect(evaluate.input.nowMs).toBe(Date.parse(T));
    expect(evaluate.input.nodes.map((n) => n.nodeId)).toEqual(['a']);
    expect(evaluate.input.usedBytes.run).toBeGreaterThan(0);
  });

  test("a tool loop's output: the final text, usage summed over rounds, every call with its result or error", () => {
    const { state, steps } = run(toolAgent(), [
      startLoop,
      answered(1, [{ id: 'c1', name: 'lookup', arguments: { q: 'x' } }, { id: 'c2', name: 'weather' }]),
      toolDone(1, 'c1', { result: { status: 200, body: 'found' } }),
      toolDone(1, 'c2', { error: 'connection refused' }),
      answered(2, [{ id: 'c3', name: 'lookup', argumentError: 'bad' }]),
      answered(3),
    ]);
    expect(state.nodeOutputs.a).toEqual({
      text: 'final 3',
      usage: { inputTokens: 3, outputTokens: 6, totalTokens: 9 },
      model: 'm',
      provider: 'openai',
      rounds: 3,
      toolCalls: [
        { id: 'c1', name: 'lookup', arguments: { q: 'x' }, result: { status: 200, body: 'found' } },
        { id: 'c2', name: 'weather', arguments: {}, error: 'connection refused' },
        { id: 'c3', name: 'lookup', arguments: {}, error: 'invalid arguments: bad' },
      ],
    });
    // The second model call continues the conversation: what the model asked, then what each call gave.
    const second = steps[4]!.commands[0] as Extract<Command, { type: 'callModel' }>;
    expect(second.turns).toEqual([
      { role: 'assistant', text: '', toolCalls: [{ id: 'c1', name: 'lookup', arguments: { q: 'x' } }, { id: 'c2', name: 'weather', arguments: {} }] },
      {
        role: 'tool',
        results: [
          { id: 'c1', name: 'lookup', content: '{"status":200,"body":"found"}', isError: false },
          { id: 'c2', name: 'weather', content: '{"error":"connection refused"}', isError: true },
        ],
      },
    ]);
    const toolEvents = steps.flatMap((s) => s.ledger.events).filter((e) => e.type.startsWith('tool_call.'));
    expect(toolEvents.map((e) => [e.type, e.data?.round, e.data?.tool, e.data?.callStatus])).toEqual([
      ['tool_call.started', 1, 'lookup', 'running'],
      ['tool_call.started', 1, 'weather', 'running'],
      ['tool_call.succeeded', 1, 'lookup', 'succeeded'],
      ['tool_call.failed', 1, 'weather', 'failed'],
      ['tool_call.started', 2, 'lookup', 'running'],
      ['tool_call.failed', 2, 'lookup', 'failed'],
    ]);
    expect(toolEvents[0]!.data).toMatchObject({ arguments: { q: 'x' }, callId: 'c1' });
    expect(toolEvents[2]!.data).toMatchObject({ durationMs: 5, preview: '{"status":200,"body":"found"}' });
    expect(steps.flatMap((s) => s.ledger.events).filter((e) => e.type === 'model_call.succeeded').map((e) => e.data?.toolCalls)).toEqual([['lookup', 'weather'], ['lookup'], []]);
  });

  test('a tool approval shows the tool and its arguments; a rejection reaches the model with the comment', () => {
    const { steps } = run(toolAgent({ toolApproval: 'all' }), [
      startLoop,
      answered(1, [{ id: 'c1', name: 'lookup', arguments: { q: 'x' } }]),
      { type: 'toolApprovalDecided', at: T, nodeId: 'a', round: 1, callId: 'c1', decision: 'rejected', comment: 'not now' },
    ]);
    const wait = steps[2]!.commands[0] as Extract<Command, { type: 'waitToolApproval' }>;
    expect(wait.title).toBe('Agent a asks to call lookup');
    expect(wait.instructions).toContain('Arguments: {"q":"x"}');
    expect(steps[2]!.ledger.events.find((e) => e.type === 'tool_call.started')!.data).toMatchObject({ callStatus: 'waiting' });
    const next = steps[3]!.commands[0] as Extract<Command, { type: 'callModel' }>;
    expect(next.turns[1]).toEqual({ role: 'tool', results: [{ id: 'c1', name: 'lookup', content: '{"error":"a person rejected this call: not now"}', isError: true }] });
  });

  test('TOOL_ROUNDS_EXCEEDED names the tools still asked for and the limit', () => {
    const { state } = run(toolAgent({ maxToolRounds: 1 }), [startLoop, answered(1, [{ id: 'c1', name: 'lookup' }]), toolDone(1, 'c1'), answered(2, [{ id: 'c2', name: 'weather' }])]);
    expect(state.error).toEqual({ nodeId: 'a', code: 'TOOL_ROUNDS_EXCEEDED', message: 'agent a still asked for tools (weather) after 1 tool round (maxToolRounds)' });
  });

  test('an approval shows the outputs so far and opens with its waiting row', () => {
    const { steps } = run(review(), [evaluated({ r: { title: 'Check' } })]);
    const wait = steps[1]!.commands[0] as Extract<Command, { type: 'waitApproval' }>;
    expect(wait).toMatchObject({ nodeId: 'r', title: 'Check', instructions: null, context: { inputs: { topic: 'tea' }, nodes: { start: { topic: 'tea' } } } });
    expect(steps[1]!.ledger.events.map((e) => e.key)).toEqual([ledgerKey.nodeWaiting('r')]);
  });
});
