import { compileGraph } from './compile';
import { compileExportPlan, ExportUnsupported } from './export-plan';
import type { ExecutionEvent } from './events';
import { MAP_ITEMS_NOT_ARRAY, MAP_TOO_MANY_ITEMS, mapItemFailure, mapItemRunKey, mapItemsProblem, MAP_FAILURE_MESSAGE_CHARS } from './map-run';
import { initialState, step, type Command, type RunState } from './run-machine';
import { applyEvents, emptyRunView } from './run-view';
import { validateGraph } from './validate';

const T = '2026-01-01T00:00:00.000Z';

function mapPlan(map: Record<string, unknown> = {}) {
  return compileGraph(
    {
      nodes: [
        { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
        { id: 'm', type: 'map', position: { x: 1, y: 0 }, data: { items: 'inputs.list', workflowId: 'wf-item', ...map } },
        { id: 'out', type: 'output', position: { x: 2, y: 0 }, data: { value: '{{nodes.m.results}}' } },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'm' },
        { id: 'e2', source: 'm', target: 'out' },
      ],
    },
    { workflowId: 'wf', workflowVersion: 1 },
  );
}

/** Started, then the map's list evaluated to `items`: the state and commands of that step. */
function evaluatedTo(items: unknown, map: Record<string, unknown> = {}) {
  const plan = mapPlan(map);
  const first = step(plan, initialState(plan, {}), { type: 'started', at: T });
  const second = step(plan, first.state, { type: 'evaluated', at: T, results: { m: { status: 'evaluated', values: { items }, bytes: 10 } } });
  return { plan, ...second };
}

describe('map node: the schema', () => {
  it('defaults concurrency to 5, onItemFailure to fail and itemInput to the item itself', () => {
    const node = mapPlan().nodes.find((n) => n.id === 'm')!;
    expect(node.data).toMatchObject({ concurrency: 5, onItemFailure: 'fail', itemInput: 'item' });
  });

  it('refuses a concurrency outside 1–100 and a wrong JSONata text', () => {
    const graph = (data: Record<string, unknown>) => ({
      nodes: [
        { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
        { id: 'm', type: 'map', position: { x: 1, y: 0 }, data: { items: '[1,2]', workflowId: 'w', ...data } },
        { id: 'out', type: 'output', position: { x: 2, y: 0 }, data: { value: 'done' } },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'm' },
        { id: 'e2', source: 'm', target: 'out' },
      ],
    });
    expect(validateGraph(graph({ concurrency: 101 })).valid).toBe(false);
    expect(validateGraph(graph({ concurrency: 0 })).valid).toBe(false);
    expect(validateGraph(graph({ items: '[1,' })).errors.map((e) => e.message).join()).toMatch(/items/);
    expect(validateGraph(graph({ concurrency: 100, onItemFailure: 'skip', onError: 'branch' })).valid).toBe(true);
  });
});

describe('map node: the run machine', () => {
  it('evaluates only the list, then runs the map with the node settings', () => {
    const plan = mapPlan({ concurrency: 7, onItemFailure: 'skip', itemInput: '{"n": item}' });
    const first = step(plan, initialState(plan, {}), { type: 'started', at: T });
    const evaluate = first.commands.find((c): c is Extract<Command, { type: 'evaluate' }> => c.type === 'evaluate')!;
    expect(evaluate.input.nodes).toEqual([{ nodeId: 'm', fields: { items: { kind: 'expression', source: 'inputs.list' } } }]);

    const { commands, ledger } = evaluatedTo([1, 2, 3], { concurrency: 7, onItemFailure: 'skip', itemInput: '{"n": item}' });
    expect(commands).toEqual([{ type: 'runMap', nodeId: 'm', items: [1, 2, 3], workflowId: 'wf-item', itemInput: '{"n": item}', concurrency: 7, onItemFailure: 'skip' }]);
    expect(ledger.events.map((e) => [e.type, e.data?.total])).toEqual([['node.started', 3]]);
  });

  it('succeeds the node with the coordinator output, which downstream nodes see', () => {
    const { plan, state } = evaluatedTo([1, 2]);
    const output = { results: [{ out: 1 }, null], failures: [{ index: 1, error: { code: 'SUBFLOW_FAILED', message: 'no' } }] };
    const ended = step(plan, state, { type: 'mapEnded', at: T, nodeId: 'm', output });
    expect(ended.state.nodes.m).toMatchObject({ status: 'succeeded' });
    expect(ended.state.nodeOutputs.m).toEqual(output);
  });

  it('fails the node when the list is not an array, or when the map fails', () => {
    const notList = evaluatedTo({ a: 1 });
    expect(notList.state.status).toBe('failed');
    expect(notList.state.error).toMatchObject({ nodeId: 'm', code: MAP_ITEMS_NOT_ARRAY, message: expect.stringContaining('must give an array, it gave object') });

    const { plan, state } = evaluatedTo([1]);
    const failed = step(plan, state, { type: 'mapEnded', at: T, nodeId: 'm', error: { code: 'MAP_ITEM_FAILED', message: 'item 0 failed' } });
    expect(failed.state.status).toBe('failed');
    expect(failed.state.error).toEqual({ nodeId: 'm', code: 'MAP_ITEM_FAILED', message: 'item 0 failed' });
  });

  it('hands a failed map to its onError like an agent (branch takes the error handle)', () => {
    const { plan, state } = evaluatedTo([1], { onError: 'branch' });
    const handled: RunState = step(plan, state, { type: 'mapEnded', at: T, nodeId: 'm', error: { code: 'MAP_ITEM_FAILED', message: 'item 0 failed' } }).state;
    expect(handled.nodes.m).toMatchObject({ status: 'succeeded', handle: 'error' });
    expect(handled.nodeOutputs.m).toEqual({ error: { code: 'MAP_ITEM_FAILED', message: 'item 0 failed' } });
  });
});

describe('map node: limits and keys', () => {
  it('names the setting of a list over MAP_MAX_ITEMS', () => {
    expect(mapItemsProblem([1, 2, 3], 2)).toEqual({ code: MAP_TOO_MANY_ITEMS, message: expect.stringContaining('MAP_MAX_ITEMS=2') });
    expect(mapItemsProblem([1, 2], 2)).toBeNull();
    expect(mapItemsProblem(null, 2)?.code).toBe(MAP_ITEMS_NOT_ARRAY);
  });

  it('gives every item its own child key and shortens long failure messages', () => {
    expect(mapItemRunKey('p', 'm', 0)).not.toBe(mapItemRunKey('p', 'm', 1));
    expect(mapItemFailure(3, 'X', 'y'.repeat(2000)).error.message).toHaveLength(MAP_FAILURE_MESSAGE_CHARS + 1);
  });
});

describe('map node: the run view', () => {
  it('shows the latest done/failed/total and never moves back for a late report', () => {
    const ev = (seq: number, done: number, failed: number): ExecutionEvent => ({ seq, executionId: 'x', type: 'map.progress', nodeId: 'm', at: T, data: { status: 'running', done, failed, total: 10 } });
    const { view } = applyEvents(emptyRunView(['m'], 'running'), [ev(1, 0, 0), ev(2, 6, 1), ev(3, 4, 0)]);
    expect(view.nodes.m?.mapProgress).toEqual({ done: 6, failed: 1, total: 10 });
  });
});

describe('map node: the export', () => {
  it('is refused with EXPORT_UNSUPPORTED naming the node (the package has no other workflows to run)', () => {
    let refused: unknown;
    try {
      compileExportPlan(mapPlan());
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ExportUnsupported);
    expect(refused).toMatchObject({ code: 'EXPORT_UNSUPPORTED', problems: [expect.objectContaining({ nodeId: 'm', field: 'type' })] });
  });
});
