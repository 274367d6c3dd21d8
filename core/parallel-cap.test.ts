// The per-run cap on parallel nodes (RUN_MAX_PARALLEL_NODES, core/scheduler.ts withinParallelCap): the run machine
// starts at most the cap of agents at once, the rest wait their turn, and a run without a cap starts them all.
import { compileGraph } from './compile';
import type { CanvasEdge, CanvasNode } from './graph';
import { initialState, step, type Command, type Happening, type RunState } from './run-machine';
import { MACHINE_T0 } from '../test/support/machine-steps';

function fanOut(width: number) {
  const agents: CanvasNode[] = Array.from({ length: width }, (_, i) => ({ id: `a${i}`, type: 'agent', position: { x: 0, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: `turn ${i}` } }) as CanvasNode);
  const nodes: CanvasNode[] = [{ id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} } as CanvasNode, ...agents, { id: 'out', type: 'output', position: { x: 0, y: 0 }, data: { value: 'done' } } as CanvasNode];
  const edges: CanvasEdge[] = agents.flatMap((a, i) => [
    { id: `in${i}`, source: 'start', target: a.id },
    { id: `out${i}`, source: a.id, target: 'out' },
  ]);
  return compileGraph({ nodes, edges }, { workflowId: 'wf', workflowVersion: 1 });
}

/** Runs the fan-out to its end, answering every evaluation and every agent turn; the most agents running at once. */
function drive(width: number, maxParallelNodes?: number): { peak: number; state: RunState; waves: number } {
  const plan = fanOut(width);
  let state = initialState(plan, {}, maxParallelNodes !== undefined ? { maxParallelNodes } : {});
  const queue: Happening[] = [{ type: 'started', at: MACHINE_T0 }];
  const turns: string[] = [];
  let peak = 0;
  let waves = 0;
  for (let guard = 0; guard < 10_000 && (queue.length || turns.length); guard += 1) {
    const happening = queue.shift() ?? { type: 'nodeSucceeded', at: MACHINE_T0, nodeId: turns.shift()!, output: { text: 'ok' }, attempt: 1 };
    const r = step(plan, state, happening);
    state = r.state;
    for (const c of r.commands as Command[]) {
      if (c.type === 'evaluate') {
        waves += 1;
        queue.push({ type: 'evaluated', at: MACHINE_T0, results: Object.fromEntries(c.input.nodes.map((n) => [n.nodeId, { status: 'evaluated' as const, values: { prompt: 'p', value: 'done' }, bytes: 8 }])) });
      }
      if (c.type === 'callAgent') turns.push(c.nodeId);
    }
    peak = Math.max(peak, Object.values(state.nodes).filter((n) => n.status === 'running').length);
  }
  return { peak, state, waves };
}

describe('the per-run cap on parallel nodes', () => {
  it('runs 110 parallel agents at most 20 at a time and still finishes every one', () => {
    const { peak, state } = drive(110, 20);
    expect(peak).toBe(20);
    expect(state.status).toBe('succeeded');
    expect(Object.values(state.nodes).every((n) => n.status === 'succeeded')).toBe(true);
  });

  it('starts the next waiting agent as soon as one ends (never more than the cap, never idle below it)', () => {
    const { peak, waves } = drive(7, 3);
    expect(peak).toBe(3);
    // The first wave starts 3; each of the 4 others is started by an agent ending; the output node closes the run.
    expect(waves).toBeGreaterThanOrEqual(5);
  });

  it('starts every ready agent at once in a run started without a cap (as before the setting)', () => {
    expect(drive(110).peak).toBe(110);
  });
});
