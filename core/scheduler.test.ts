import { compileGraph } from './compile';
import type { CanvasEdge, CanvasGraph, CanvasNode } from './graph';
import type { RunPlan } from './plan';
import { isEdgeActive, isRunComplete, nextSteps } from './scheduler';
import type { NodeRunState } from './scheduler';

function plan(nodes: CanvasNode[], edges: CanvasEdge[]): RunPlan {
  const graph: CanvasGraph = { nodes, edges };
  return compileGraph(graph, { workflowId: 'wf', workflowVersion: 1 });
}

const trigger = (id: string): CanvasNode => ({ id, type: 'trigger', data: {} });
const transform = (id: string): CanvasNode => ({ id, type: 'transform', data: { template: id } });
const condition = (id: string): CanvasNode => ({ id, type: 'condition', data: { expression: 'true' } });
const output = (id: string): CanvasNode => ({ id, type: 'output', data: { value: id } });
const edge = (source: string, target: string, sourceHandle?: string): CanvasEdge => ({ id: `${source}-${target}`, source, target, sourceHandle });

describe('nextSteps', () => {
  // start fans out to `a` and `b`; `a` feeds a condition whose branches `yes`/`no` fan in, with `b`, at `out`.
  const sevenNodes = plan(
    [trigger('start'), transform('a'), transform('b'), condition('check'), transform('yes'), transform('no'), output('out')],
    [
      edge('start', 'a'),
      edge('start', 'b'),
      edge('a', 'check'),
      edge('check', 'yes', 'true'),
      edge('check', 'no', 'false'),
      edge('yes', 'out'),
      edge('no', 'out'),
      edge('b', 'out'),
    ],
  );

  test('a seven-node run with fan-out, a false condition and fan-in proceeds step by step', () => {
    const states: Record<string, NodeRunState> = {};
    const set = (id: string, status: NodeRunState['status'], handle?: string) => {
      states[id] = { status, handle };
    };

    expect(nextSteps(sevenNodes, states)).toEqual({ ready: ['start'], skip: [] });
    set('start', 'running');
    expect(nextSteps(sevenNodes, states)).toEqual({ ready: [], skip: [] });

    set('start', 'succeeded');
    expect(nextSteps(sevenNodes, states)).toEqual({ ready: ['a', 'b'], skip: [] });
    set('a', 'running');
    set('b', 'running');
    expect(nextSteps(sevenNodes, states)).toEqual({ ready: [], skip: [] });

    set('b', 'succeeded');
    // `out` waits: its edges from `yes` and `no` are not settled yet.
    expect(nextSteps(sevenNodes, states)).toEqual({ ready: [], skip: [] });

    set('a', 'succeeded');
    expect(nextSteps(sevenNodes, states)).toEqual({ ready: ['check'], skip: [] });

    set('check', 'succeeded', 'false');
    expect(nextSteps(sevenNodes, states)).toEqual({ ready: ['no'], skip: ['yes'] });
    set('yes', 'skipped');
    set('no', 'running');
    expect(nextSteps(sevenNodes, states)).toEqual({ ready: [], skip: [] });
    expect(isRunComplete(sevenNodes, states)).toBe(false);

    set('no', 'succeeded');
    expect(nextSteps(sevenNodes, states)).toEqual({ ready: ['out'], skip: [] });
    set('out', 'succeeded');
    expect(nextSteps(sevenNodes, states)).toEqual({ ready: [], skip: [] });
    expect(isRunComplete(sevenNodes, states)).toBe(true);
  });

  test('a skip propagates down a whole chain in one call', () => {
    const chain = plan(
      [trigger('start'), condition('check'), transform('x'), transform('y'), transform('z'), output('out'), output('other')],
      [edge('start', 'check'), edge('check', 'x', 'true'), edge('x', 'y'), edge('y', 'z'), edge('z', 'out'), edge('check', 'other', 'false')],
    );
    const states: Record<string, NodeRunState> = { start: { status: 'succeeded' }, check: { status: 'succeeded', handle: 'false' } };
    expect(nextSteps(chain, states)).toEqual({ ready: ['other'], skip: ['x', 'y', 'z', 'out'] });
  });

  test('a fan-in node runs when one branch was skipped and the other is active', () => {
    const diamond = plan(
      [trigger('start'), condition('check'), transform('yes'), transform('no'), output('join')],
      [edge('start', 'check'), edge('check', 'yes', 'true'), edge('check', 'no', 'false'), edge('yes', 'join'), edge('no', 'join')],
    );
    const states: Record<string, NodeRunState> = {
      start: { status: 'succeeded' },
      check: { status: 'succeeded', handle: 'true' },
      yes: { status: 'succeeded' },
      no: { status: 'skipped' },
    };
    expect(nextSteps(diamond, states)).toEqual({ ready: ['join'], skip: [] });
  });

  test("a node whose only input is a condition's untaken handle is skipped", () => {
    const branch = plan(
      [trigger('start'), condition('check'), output('taken'), output('untaken')],
      [edge('start', 'check'), edge('check', 'taken', 'true'), edge('check', 'untaken', 'false')],
    );
    const states: Record<string, NodeRunState> = { start: { status: 'succeeded' }, check: { status: 'succeeded', handle: 'true' } };
    expect(nextSteps(branch, states)).toEqual({ ready: ['taken'], skip: ['untaken'] });
  });

  test("an approval's rejected handle runs the rejected branch and skips the approved one", () => {
    const approval = plan(
      [trigger('start'), { id: 'review', type: 'approval', data: { title: 'Ship it?' } }, output('publish'), output('notify')],
      [edge('start', 'review'), edge('review', 'publish', 'approved'), edge('review', 'notify', 'rejected')],
    );
    const states: Record<string, NodeRunState> = { start: { status: 'succeeded' }, review: { status: 'succeeded', handle: 'rejected' } };
    expect(nextSteps(approval, states)).toEqual({ ready: ['notify'], skip: ['publish'] });
  });

  test('nodes downstream of a failed node are skipped, not run', () => {
    const line = plan([trigger('start'), transform('a'), output('out')], [edge('start', 'a'), edge('a', 'out')]);
    const states: Record<string, NodeRunState> = { start: { status: 'succeeded' }, a: { status: 'failed' } };
    expect(nextSteps(line, states)).toEqual({ ready: [], skip: ['out'] });
  });
});

describe('isEdgeActive', () => {
  test('an edge is active only when its source succeeded and took the edge handle', () => {
    const plain = { edgeId: 'e', source: 's', sourceHandle: null };
    const onTrue = { edgeId: 'e', source: 's', sourceHandle: 'true' };
    expect(isEdgeActive(plain, { s: { status: 'succeeded' } })).toBe(true);
    expect(isEdgeActive(plain, { s: { status: 'running' } })).toBe(false);
    expect(isEdgeActive(plain, { s: { status: 'skipped' } })).toBe(false);
    expect(isEdgeActive(plain, {})).toBe(false);
    expect(isEdgeActive(onTrue, { s: { status: 'succeeded', handle: 'true' } })).toBe(true);
    expect(isEdgeActive(onTrue, { s: { status: 'succeeded', handle: 'false' } })).toBe(false);
    expect(isEdgeActive(onTrue, { s: { status: 'succeeded' } })).toBe(false);
  });
});

describe('isRunComplete', () => {
  test('a run is complete only when every node is succeeded, skipped, failed or cancelled', () => {
    const line = plan([trigger('start'), output('out')], [edge('start', 'out')]);
    expect(isRunComplete(line, {})).toBe(false);
    expect(isRunComplete(line, { start: { status: 'succeeded' }, out: { status: 'waiting' } })).toBe(false);
    expect(isRunComplete(line, { start: { status: 'succeeded' }, out: { status: 'cancelled' } })).toBe(true);
  });
});
