import { compileGraph, GraphInvalidError } from './compile';
import { designExampleGraph } from './examples';
import type { CanvasGraph } from './graph';

const meta = { workflowId: 'wf-1', workflowVersion: 3 };

describe('compileGraph', () => {
  test('the DESIGN.md example compiles to a plan in run order, trigger first', () => {
    const plan = compileGraph(designExampleGraph(), meta);
    expect(plan).toMatchObject({ planVersion: 1, workflowId: 'wf-1', workflowVersion: 3, triggerId: 'start', outputNodeIds: ['done'] });
    expect(plan.nodes.map((node) => node.id)).toEqual(['start', 'draft', 'check', 'review', 'done']);
    expect(plan.inputs).toEqual({ topic: { type: 'string', required: true } });
  });

  test('each plan node lists its incoming edges with their handles, and no position', () => {
    const plan = compileGraph(designExampleGraph(), meta);
    const byId = new Map(plan.nodes.map((node) => [node.id, node]));
    expect(byId.get('start')?.incoming).toEqual([]);
    expect(byId.get('draft')?.incoming).toEqual([{ edgeId: 'e1', source: 'start', sourceHandle: null }]);
    expect(byId.get('review')?.incoming).toEqual([{ edgeId: 'e3', source: 'check', sourceHandle: 'true' }]);
    expect(byId.get('done')?.incoming).toEqual([{ edgeId: 'e4', source: 'review', sourceHandle: 'approved' }]);
    for (const node of plan.nodes) expect(node).not.toHaveProperty('position');
  });

  test('node order is topological even when the document lists nodes backwards, ties keep document order', () => {
    const graph: CanvasGraph = {
      nodes: [
        { id: 'done', type: 'output', data: { value: '{{nodes.b}} {{nodes.a}}' } },
        { id: 'b', type: 'transform', data: { template: 'B' } },
        { id: 'a', type: 'transform', data: { template: 'A' } },
        { id: 'start', type: 'trigger', data: {} },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'a' },
        { id: 'e2', source: 'start', target: 'b' },
        { id: 'e3', source: 'a', target: 'done' },
        { id: 'e4', source: 'b', target: 'done' },
      ],
    };
    const plan = compileGraph(graph, meta);
    expect(plan.nodes.map((node) => node.id)).toEqual(['start', 'b', 'a', 'done']);
    expect(plan.nodes[3]?.incoming.map((edge) => edge.edgeId)).toEqual(['e3', 'e4']);
  });

  test('schema defaults are applied: a trigger without data declares no inputs', () => {
    const graph: CanvasGraph = {
      nodes: [
        { id: 'start', type: 'trigger', data: {} },
        { id: 'done', type: 'output', data: { value: 'x' } },
      ],
      edges: [{ id: 'e1', source: 'start', target: 'done' }],
    };
    const plan = compileGraph(graph, meta);
    expect(plan.nodes[0]).toEqual({ id: 'start', type: 'trigger', incoming: [], data: { inputs: {} } });
    expect(plan.inputs).toEqual({});
  });

  test('an invalid graph throws GraphInvalidError carrying every problem', () => {
    const graph = designExampleGraph();
    graph.edges.push({ id: 'e5', source: 'done', target: 'ghost' });
    graph.nodes.push({ id: 'lost', type: 'output', data: { value: 'x' } });
    let thrown: unknown;
    try {
      compileGraph(graph, meta);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GraphInvalidError);
    const error = thrown as GraphInvalidError;
    expect(error.code).toBe('GRAPH_INVALID');
    expect(error.status).toBe(422);
    expect(error.problems.map((problem) => problem.code).sort()).toEqual(['DANGLING_EDGE', 'UNREACHABLE_NODE']);
    expect(error.details).toEqual({ problems: error.problems });
  });

  test('the plan is plain JSON, as a Temporal workflow input must be', () => {
    const plan = compileGraph(designExampleGraph(), meta);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});
