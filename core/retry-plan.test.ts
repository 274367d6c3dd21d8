import { compileGraph } from './compile';
import type { CanvasEdge, CanvasNode } from './graph';
import type { ReusedNode, RunPlan } from './plan';
import { planRetry, reusedNodes, type RecordedNode } from './retry-plan';
import { type Happening } from './run-machine';
import { feedMachine } from '../test/support/machine-steps';
import { applyEvents, emptyRunView } from './run-view';

const T = '2026-01-01T00:00:00.000Z';
const trigger = (id: string): CanvasNode => ({ id, type: 'trigger', data: {} });
const agent = (id: string, prompt = `p ${id}`): CanvasNode => ({ id, type: 'agent', data: { provider: 'echo', model: 'echo-1', prompt } }) as CanvasNode;
const transform = (id: string): CanvasNode => ({ id, type: 'transform', data: { template: id } });
const condition = (id: string): CanvasNode => ({ id, type: 'condition', data: { expression: 'true' } });
const output = (id: string): CanvasNode => ({ id, type: 'output', data: { value: id } });
const edge = (source: string, target: string, sourceHandle?: string): CanvasEdge => ({ id: `${source}-${target}`, source, target, sourceHandle });
const plan = (nodes: CanvasNode[], edges: CanvasEdge[], workflowVersion = 1): RunPlan => compileGraph({ nodes, edges }, { workflowId: 'wf', workflowVersion });

/** A success as recorded, and as kept. */
const ok = (output: unknown, handle: string | null = null): RecordedNode & ReusedNode => ({ status: 'succeeded', output, handle });
const as = (status: RecordedNode['status']): RecordedNode => ({ status, output: null, handle: null });

// start → a1 → a2 → a3 → out, a3 failed.
const chainNodes = [trigger('start'), agent('a1'), agent('a2'), agent('a3'), output('out')];
const chainEdges = [edge('start', 'a1'), edge('a1', 'a2'), edge('a2', 'a3'), edge('a3', 'out')];
const chain = plan(chainNodes, chainEdges);
const chainFailed: Record<string, RecordedNode> = {
  start: ok({ topic: 'tea' }),
  a1: ok({ text: 'one' }),
  a2: ok({ text: 'two' }),
  a3: as('failed'),
  out: as('cancelled'),
};

// start → a, b (siblings); a, b → join → check → yes | no → out.
const fan = plan(
  [trigger('start'), agent('a'), agent('b'), transform('join'), condition('check'), transform('yes'), transform('no'), output('out')],
  [edge('start', 'a'), edge('start', 'b'), edge('a', 'join'), edge('b', 'join'), edge('join', 'check'), edge('check', 'yes', 'true'), edge('check', 'no', 'false'), edge('yes', 'out'), edge('no', 'out')],
);

describe('planRetry: where a retry starts and what it keeps', () => {
  it('by default starts at the failed node and keeps everything before it', () => {
    const r = planRetry({ executionId: 'old', before: chain, plan: chain, recorded: chainFailed, version: 'original' });
    expect(r).toEqual({
      ok: true,
      from: ['a3'],
      reuse: { from: 'old', nodes: { start: ok({ topic: 'tea' }), a1: ok({ text: 'one' }), a2: ok({ text: 'two' }) } },
    });
  });

  it('from a named node keeps only what is not downstream of it', () => {
    const r = planRetry({ executionId: 'old', before: chain, plan: chain, recorded: chainFailed, version: 'original', fromNodeId: 'a2' });
    expect(r.ok && Object.keys(r.reuse.nodes)).toEqual(['start', 'a1']);
  });

  it('a run that did not fail needs a node to start from (409)', () => {
    const recorded = { ...chainFailed, a3: ok({ text: 'three' }), out: ok('three') };
    const r = planRetry({ executionId: 'old', before: chain, plan: chain, recorded, version: 'original' });
    expect(r).toMatchObject({ ok: false, problem: { code: 'NOTHING_TO_RETRY', status: 409 } });
  });

  it('an unknown node is a 422 naming it, and on the latest version says so', () => {
    expect(planRetry({ executionId: 'old', before: chain, plan: chain, recorded: chainFailed, version: 'original', fromNodeId: 'nope' })).toMatchObject({
      ok: false,
      problem: { code: 'UNKNOWN_NODE', status: 422, message: 'execution old has no node nope to retry from', details: { nodeIds: ['nope'] } },
    });
    const latest = plan([trigger('start'), agent('a1'), agent('a2'), output('out')], [edge('start', 'a1'), edge('a1', 'a2'), edge('a2', 'out')], 2);
    expect(planRetry({ executionId: 'old', before: chain, plan: latest, recorded: chainFailed, version: 'latest' })).toMatchObject({
      ok: false,
      problem: { code: 'UNKNOWN_NODE', message: 'version 2 (the latest) of the workflow has no node a3 to retry from' },
    });
  });
});

describe('reusedNodes: only final results whose inputs are kept too', () => {
  it('a sibling the failure cancelled runs again, with everything after it', () => {
    const recorded = { start: ok({}), a: as('failed'), b: as('cancelled'), join: as('cancelled'), check: as('cancelled'), yes: as('cancelled'), no: as('cancelled'), out: as('cancelled') };
    expect(Object.keys(reusedNodes(fan, fan, recorded, ['a']))).toEqual(['start']);
  });

  it('keeps a condition with its branch and the node skipped on the branch not taken', () => {
    const recorded = { start: ok({}), a: ok({ text: 'a' }), b: ok({ text: 'b' }), join: ok('a b'), check: ok({ result: false }, 'false'), yes: as('skipped'), no: ok('no'), out: ok('x') };
    expect(reusedNodes(fan, fan, recorded, ['no'])).toEqual({
      start: ok({}),
      a: ok({ text: 'a' }),
      b: ok({ text: 'b' }),
      join: ok('a b'),
      check: ok({ result: false }, 'false'),
      yes: { status: 'skipped', output: null, handle: null },
    });
  });

  it('a condition without a recorded handle runs again (events older than handles)', () => {
    const recorded = { start: ok({}), a: ok({ text: 'a' }), b: ok({ text: 'b' }), join: ok('a b'), check: ok({ result: false }), yes: as('skipped'), no: ok('no'), out: ok('x') };
    expect(Object.keys(reusedNodes(fan, fan, recorded, ['out']))).toEqual(['start', 'a', 'b', 'join']);
  });

  it('on another version a changed node runs again, and so does what follows it; a new node runs', () => {
    const latest = plan(
      [trigger('start'), agent('a1', 'a new prompt'), agent('a2'), agent('a3'), agent('extra'), output('out')],
      [edge('start', 'a1'), edge('a1', 'a2'), edge('a2', 'a3'), edge('start', 'extra'), edge('a3', 'out')],
      2,
    );
    expect(Object.keys(reusedNodes(chain, latest, chainFailed, ['a3']))).toEqual(['start']);
  });
});

const run = (p: RunPlan, happenings: Happening[]) => feedMachine(p, happenings);

describe('the run machine seeds a retry with the kept nodes', () => {
  const planned = planRetry({ executionId: 'old', before: chain, plan: chain, recorded: chainFailed, version: 'original' });
  if (!planned.ok) throw new Error('planRetry refused');
  const retry: RunPlan = { ...chain, reuse: planned.reuse };

  it('starts with the kept nodes succeeded, their outputs in scope and counted, and asks only for the rest', () => {
    const { state, steps } = run(retry, []);
    expect(Object.fromEntries(Object.entries(state.nodes).map(([id, n]) => [id, n.status]))).toEqual({ start: 'succeeded', a1: 'succeeded', a2: 'succeeded', a3: 'pending', out: 'pending' });
    expect(state.nodeOutputs).toEqual({ start: { topic: 'tea' }, a1: { text: 'one' }, a2: { text: 'two' } });
    expect(state.used.run).toBe(JSON.stringify({ topic: 'tea' }).length + JSON.stringify({ text: 'one' }).length + JSON.stringify({ text: 'two' }).length);
    const commands = steps[0]!.commands;
    expect(commands.map((c) => c.type)).toEqual(['evaluate']);
    expect(commands[0]!.type === 'evaluate' && commands[0]!.input.nodes.map((n) => n.nodeId)).toEqual(['a3']);
    expect(commands[0]!.type === 'evaluate' && commands[0]!.input.scope.nodes).toEqual({ start: { topic: 'tea' }, a1: { text: 'one' }, a2: { text: 'two' } });
  });

  it('records the kept nodes as reused: attempt 0, reusedFrom the old run, rows with the outputs', () => {
    const { ledger } = run(retry, []).steps[0]!;
    const reused = ledger.events.filter((e) => e.data?.reusedFrom === 'old');
    expect(reused.map((e) => `${e.type}:${e.nodeId}:${String(e.data?.attempt)}`)).toEqual(['node.succeeded:start:0', 'node.succeeded:a1:0', 'node.succeeded:a2:0']);
    expect(ledger.nodes.find((n) => n.nodeId === 'a2')).toMatchObject({ status: 'succeeded', attempts: 0, output: { text: 'two' } });
  });

  it('runs the rest as any run: the retried node, then the output', () => {
    const { state, steps } = run(retry, [
      { type: 'evaluated', at: T, results: { a3: { status: 'evaluated', values: { prompt: 'p a3' }, bytes: 4 } } },
      { type: 'nodeSucceeded', at: T, nodeId: 'a3', attempt: 1, output: { text: 'three' } },
      { type: 'evaluated', at: T, results: { out: { status: 'evaluated', values: { value: 'three' }, bytes: 7 } } },
    ]);
    expect(steps[1]!.commands.map((c) => c.type === 'callAgent' && c.nodeId)).toEqual(['a3']);
    expect(state.status).toBe('succeeded');
    expect(state.outputs).toEqual({ out: 'three' });
  });

  it('a kept output node is in the run outputs; a kept skip stays skipped', () => {
    const p = plan([trigger('start'), condition('check'), output('yes'), agent('no'), output('out')], [edge('start', 'check'), edge('check', 'yes', 'true'), edge('check', 'no', 'false'), edge('no', 'out')]);
    const kept: RunPlan = { ...p, reuse: { from: 'old', nodes: { start: ok({}), check: ok({ result: false }, 'false'), yes: { status: 'skipped', output: null, handle: null } } } };
    const { state } = run(kept, []);
    expect(state.nodes.yes).toEqual({ status: 'skipped', attempts: 0, handle: null });
    expect(state.nodes.check).toEqual({ status: 'succeeded', attempts: 0, handle: 'false' });
    const out = plan([trigger('start'), output('early'), agent('late'), output('out')], [edge('start', 'early'), edge('start', 'late'), edge('late', 'out')]);
    const s = run({ ...out, reuse: { from: 'old', nodes: { start: ok({}), early: ok('kept') } } }, []).state;
    expect(s.outputs).toEqual({ early: 'kept' });
    expect(s.used.outputs).toBe(JSON.stringify('kept').length);
  });

  it('the run view marks the reused nodes from their events', () => {
    const { steps } = run(retry, []);
    const events = steps.flatMap((s) => s.ledger.events).map((e, i) => ({ ...e, seq: i + 1 }));
    const view = applyEvents(emptyRunView(chain.nodes.map((n) => n.id)), events).view;
    expect(view.nodes.a2).toMatchObject({ status: 'succeeded', attempts: 0, reusedFrom: 'old' });
    expect(view.nodes.a3!.reusedFrom).toBeUndefined();
  });

  it('a plan without reuse steps exactly as before', () => {
    const a = run(chain, []).steps[0]!;
    expect(a.ledger.events.map((e) => e.key)).toEqual(['execution:started', 'node:start:started', 'node:start:succeeded']);
    expect(a.commands.map((c) => c.type)).toEqual(['evaluate']);
  });
});
