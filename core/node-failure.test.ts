import { compileGraph } from './compile';
import type { CanvasEdge, CanvasNode } from './graph';
import type { NodeEvaluationResult } from './evaluation-protocol';
import { failureOutcome, onErrorOf } from './node-failure';
import type { PlanNode, RunPlan } from './plan';
import { type Command, type Happening, type StepResult } from './run-machine';
import { feedMachine, nodeStatuses } from '../test/support/machine-steps';
import { applyEvents, emptyRunView, type ViewEvent } from './run-view';
import { isEdgeActive } from './scheduler';

const T = '2026-01-01T00:00:00.000Z';
const trigger = (id: string): CanvasNode => ({ id, type: 'trigger', data: {} });
const agent = (id: string, data: Record<string, unknown> = {}): CanvasNode => ({ id, type: 'agent', data: { provider: 'echo', model: 'echo-1', prompt: `p ${id}`, ...data } });
const output = (id: string): CanvasNode => ({ id, type: 'output', data: { value: id } });
const edge = (source: string, target: string, sourceHandle?: string): CanvasEdge => ({ id: `${source}-${target}`, source, target, sourceHandle });
const plan = (nodes: CanvasNode[], edges: CanvasEdge[]): RunPlan => compileGraph({ nodes, edges }, { workflowId: 'wf', workflowVersion: 1 });

const evaluated = (ids: string[]): Happening => ({
  type: 'evaluated',
  at: T,
  results: Object.fromEntries(ids.map((id): [string, NodeEvaluationResult] => [id, { status: 'evaluated', values: { prompt: 'p', value: id }, bytes: 10 }])),
});
const failed = (nodeId: string, attempt: number, retryable: boolean): Happening => ({ type: 'nodeFailed', at: T, nodeId, attempt, code: 'PROVIDER_ERROR', message: 'bad request', retryable });
const succeeded = (nodeId: string): Happening => ({ type: 'nodeSucceeded', at: T, nodeId, attempt: 1, output: { text: `out ${nodeId}`, usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } } });

const run = (p: RunPlan, happenings: Happening[]) => feedMachine(p, happenings, {});
const statuses = nodeStatuses;
const last = (steps: StepResult[]): StepResult => steps[steps.length - 1]!;
const commandKinds = (commands: Command[]) => commands.map((c) => (c.type === 'callAgent' ? `callAgent:${c.nodeId}#${c.attempt}` : c.type === 'finish' ? `finish:${c.status}` : c.type));
const evaluatedIds = (commands: Command[]) => commands.flatMap((c) => (c.type === 'evaluate' ? c.input.nodes.map((n) => n.nodeId) : []));

/** start → a → out, and a's error handle → recover → saved (a branches when onError is branch). */
const recovery = (onError?: string, retry?: Record<string, unknown>) =>
  plan(
    [trigger('start'), agent('a', { ...(onError ? { onError } : {}), ...(retry ? { retry } : {}) }), output('out'), agent('recover'), output('saved')],
    [edge('start', 'a'), edge('a', 'out'), ...(onError === 'branch' ? [edge('a', 'recover', 'error')] : [edge('a', 'recover')]), edge('recover', 'saved')],
  );

describe('failureOutcome', () => {
  const node = (data: Record<string, unknown>): PlanNode => ({ id: 'a', type: 'agent', incoming: [], data: { provider: 'echo', model: 'm', prompt: 'p', ...data } });
  test('without onError a failure fails the run, as before the field existed', () => {
    expect(onErrorOf(node({}))).toBe('fail');
    expect(failureOutcome(node({}), { code: 'X', message: 'm' })).toEqual({ kind: 'fail' });
  });
  test('continue succeeds on the normal edges, branch takes the error handle; both with {error: {code, message}}', () => {
    expect(failureOutcome(node({ onError: 'continue' }), { code: 'X', message: 'm' })).toEqual({ kind: 'handled', mode: 'continue', output: { error: { code: 'X', message: 'm' } }, handle: null });
    expect(failureOutcome(node({ onError: 'branch' }), { code: 'X', message: 'm' })).toEqual({ kind: 'handled', mode: 'branch', output: { error: { code: 'X', message: 'm' } }, handle: 'error' });
  });
  test('a node type without the field fails the run', () => {
    expect(onErrorOf({ id: 'o', type: 'output', incoming: [], data: { value: 'x' } })).toBe('fail');
  });
});

describe('the run machine with onError', () => {
  test('branch: a non-retryable failure takes only the error edges; the normal edge is skipped and the run goes on', () => {
    const p = recovery('branch');
    const { state, steps } = run(p, [evaluated(['a']), failed('a', 1, false)]);
    expect(state.nodes.a).toEqual({ status: 'succeeded', attempts: 1, handle: 'error' });
    expect(state.nodeOutputs.a).toEqual({ error: { code: 'PROVIDER_ERROR', message: 'bad request' } });
    expect(statuses(state)).toMatchObject({ out: 'skipped', recover: 'pending', saved: 'pending' });
    expect(evaluatedIds(last(steps).commands)).toEqual(['recover']);
    const evaluate = last(steps).commands.find((c) => c.type === 'evaluate');
    expect(evaluate?.type === 'evaluate' && evaluate.input.scope.nodes.a).toEqual({ error: { code: 'PROVIDER_ERROR', message: 'bad request' } });
    const events = last(steps).ledger.events;
    expect(events.find((e) => e.nodeId === 'a')).toMatchObject({ type: 'node.succeeded', data: { status: 'succeeded', handle: 'error', handled: true, code: 'PROVIDER_ERROR', error: 'bad request' }, key: 'node:a:succeeded' });
    expect(last(steps).ledger.nodes.find((n) => n.nodeId === 'a')).toMatchObject({ status: 'succeeded', output: { error: { code: 'PROVIDER_ERROR' } }, error: { code: 'PROVIDER_ERROR', message: 'bad request', nodeId: 'a' } });

    const end = run(p, [evaluated(['a']), failed('a', 1, false), evaluated(['recover']), succeeded('recover'), evaluated(['saved'])]);
    expect(end.state.status).toBe('succeeded');
    expect(end.state.outputs).toEqual({ saved: 'saved' });
    expect(commandKinds(last(end.steps).commands)).toEqual(['finish:succeeded']);
  });

  test('continue: the node succeeds with the error as output on its normal edges', () => {
    const p = recovery('continue');
    const { state, steps } = run(p, [evaluated(['a']), failed('a', 1, false)]);
    expect(state.nodes.a).toEqual({ status: 'succeeded', attempts: 1, handle: null });
    expect(evaluatedIds(last(steps).commands)).toEqual(['out', 'recover']);
    expect(last(steps).ledger.events.find((e) => e.nodeId === 'a')?.data).toMatchObject({ handle: null, handled: true });
  });

  test('fail (the default): the run fails as before, with the same commands and ledger whether onError is absent or "fail"', () => {
    const absent = run(recovery(), [evaluated(['a']), failed('a', 1, false)]);
    const explicit = run(recovery('fail'), [evaluated(['a']), failed('a', 1, false)]);
    expect(absent.state.status).toBe('failed');
    expect(commandKinds(last(absent.steps).commands)).toEqual(['finish:failed']);
    expect(last(explicit.steps).commands).toEqual(last(absent.steps).commands);
    expect(last(explicit.steps).ledger).toEqual(last(absent.steps).ledger);
  });

  test('a retryable failure is retried first; only the last attempt is handled, its attempts counted', () => {
    const p = recovery('branch', { maximumAttempts: 3, initialIntervalSeconds: 1 });
    const retrying = run(p, [evaluated(['a']), failed('a', 1, true), failed('a', 2, true)]);
    expect(commandKinds(last(retrying.steps).commands)).toEqual(['callAgent:a#3']);
    const { state } = run(p, [evaluated(['a']), failed('a', 1, true), failed('a', 2, true), failed('a', 3, true)]);
    expect(state.nodes.a).toEqual({ status: 'succeeded', attempts: 3, handle: 'error' });
    expect(state.status).toBe('running');
  });

  test('a handled failure does not stop its siblings', () => {
    const p = plan(
      [trigger('start'), agent('a', { onError: 'continue' }), agent('b'), output('out')],
      [edge('start', 'a'), edge('start', 'b'), edge('a', 'out'), edge('b', 'out')],
    );
    const { state, steps } = run(p, [evaluated(['a', 'b']), failed('a', 1, false)]);
    expect(last(steps).commands.map((c) => c.type)).not.toContain('stopInFlight');
    expect(statuses(state)).toMatchObject({ a: 'succeeded', b: 'running', out: 'pending' });
    const done = run(p, [evaluated(['a', 'b']), failed('a', 1, false), succeeded('b'), evaluated(['out'])]);
    expect(done.state.status).toBe('succeeded');
  });

  test('a tool loop past maxToolRounds is handled like any final failure, and its loop is let go', () => {
    const tool = { type: 'http', name: 'lookup', method: 'GET', url: 'http://127.0.0.1/x' };
    const p = plan([trigger('start'), agent('a', { provider: 'openai', model: 'm', tools: [tool], maxToolRounds: 1, onError: 'continue' }), output('out')], [edge('start', 'a'), edge('a', 'out')]);
    const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
    const ask = (round: number): Happening => ({ type: 'modelAnswered', at: T, nodeId: 'a', round, attempt: 1, answer: { text: '', usage, model: 'm', provider: 'openai', toolCalls: [{ id: `c${round}`, name: 'lookup', arguments: {} }] } });
    const { state } = run(p, [evaluated(['a']), ask(1), { type: 'toolDone', at: T, nodeId: 'a', round: 1, callId: 'c1', result: 1, durationMs: 1 }, ask(2)]);
    expect(state.nodes.a).toMatchObject({ status: 'succeeded', handle: null });
    expect((state.nodeOutputs.a as { error: { code: string } }).error.code).toBe('TOOL_ROUNDS_EXCEEDED');
    expect(state.loops.a).toBeUndefined();
  });
});

describe('onError on a conversation', () => {
  const people = [
    { name: 'alice', provider: 'openai', model: 'm-a' },
    { name: 'bob', provider: 'openai', model: 'm-b' },
  ];
  const talk = (onError?: string) =>
    plan(
      [trigger('start'), { id: 'c', type: 'conversation', data: { participants: people, topic: 'Plan', maxRounds: 2, retry: { maximumAttempts: 2 }, ...(onError ? { onError } : {}) } }, output('out'), agent('fix'), output('saved')],
      [edge('start', 'c'), edge('c', 'out'), edge('c', 'fix', onError === 'branch' ? 'error' : undefined), edge('fix', 'saved')],
    );
  const turnFailed = (attempt: number, retryable: boolean): Happening => ({ type: 'nodeFailed', at: T, nodeId: 'c', attempt, code: 'AGENT_FAILED', message: 'bob is down', retryable });
  const topic: Happening = { type: 'evaluated', at: T, results: { c: { status: 'evaluated', values: { topic: 'Plan' }, bytes: 4 } } };

  test('a turn that fails for good, after its retries, takes the error branch and lets the conversation go', () => {
    const { state, steps } = run(talk('branch'), [topic, turnFailed(1, true), turnFailed(2, true)]);
    expect(state.nodes.c).toEqual({ status: 'succeeded', attempts: 2, handle: 'error' });
    expect(state.nodeOutputs.c).toEqual({ error: { code: 'AGENT_FAILED', message: 'bob is down' } });
    expect(state.conversations.c).toBeUndefined();
    expect(statuses(state)).toMatchObject({ out: 'skipped', fix: 'pending' });
    expect(evaluatedIds(last(steps).commands)).toEqual(['fix']);
  });

  test('without onError the run fails as before', () => {
    const { state } = run(talk(), [topic, turnFailed(1, false)]);
    expect(state.status).toBe('failed');
    expect(state.nodes.c?.status).toBe('failed');
  });
});

describe('onError on a subflow', () => {
  const parent = (onError?: string) =>
    plan(
      [trigger('start'), { id: 'sub', type: 'subflow', data: { workflowId: 'child-wf', ...(onError ? { onError } : {}) } }, output('out'), agent('fix'), output('saved')],
      [edge('start', 'sub'), edge('sub', 'out'), edge('sub', 'fix', onError === 'branch' ? 'error' : undefined), edge('fix', 'saved')],
    );
  const inputs: Happening = { type: 'evaluated', at: T, results: { sub: { status: 'evaluated', values: {}, bytes: 2 } } };
  const childFailed: Happening = { type: 'childEnded', at: T, nodeId: 'sub', error: { code: 'SUBFLOW_FAILED', message: 'the child run failed' } };

  test('a child run that failed takes the error branch; the parent run goes on', () => {
    const { state, steps } = run(parent('branch'), [inputs, childFailed]);
    expect(state.nodes.sub).toEqual({ status: 'succeeded', attempts: 1, handle: 'error' });
    expect(state.nodeOutputs.sub).toEqual({ error: { code: 'SUBFLOW_FAILED', message: 'the child run failed' } });
    expect(statuses(state)).toMatchObject({ out: 'skipped', fix: 'pending' });
    expect(evaluatedIds(last(steps).commands)).toEqual(['fix']);
  });

  test('continue hands the error on; without onError the parent fails as before', () => {
    expect(run(parent('continue'), [inputs, childFailed]).state.nodes.sub).toEqual({ status: 'succeeded', attempts: 1, handle: null });
    const failed = run(parent(), [inputs, childFailed]);
    expect(failed.state.status).toBe('failed');
    expect(failed.state.error).toEqual({ nodeId: 'sub', code: 'SUBFLOW_FAILED', message: 'the child run failed' });
  });
});

describe('the scheduler and the run view on a handled failure', () => {
  test('a node that took the error handle activates only its error edges', () => {
    const states = { a: { status: 'succeeded' as const, handle: 'error' } };
    expect(isEdgeActive({ edgeId: 'e1', source: 'a', sourceHandle: null }, states)).toBe(false);
    expect(isEdgeActive({ edgeId: 'e2', source: 'a', sourceHandle: 'error' }, states)).toBe(true);
    expect(isEdgeActive({ edgeId: 'e3', source: 'a', sourceHandle: null }, { a: { status: 'succeeded', handle: null } })).toBe(true);
  });

  test('the run view shows the node succeeded on its error handle, with the error it handled', () => {
    const p = recovery('branch');
    const { steps } = run(p, [evaluated(['a']), failed('a', 1, false)]);
    const events: ViewEvent[] = steps.flatMap((s) => s.ledger.events).map((e, i) => ({ ...e, seq: i + 1 }));
    const { view } = applyEvents(emptyRunView(p.nodes.map((n) => n.id)), events);
    expect(view.nodes.a).toMatchObject({ status: 'succeeded', handle: 'error', error: { code: 'PROVIDER_ERROR', message: 'bad request' } });
    expect(view.nodes.out?.status).toBe('skipped');
    expect(view.status).toBe('running');
  });
});
