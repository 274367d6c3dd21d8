import { childChain, childChainProblem, childRunKey, selfReferences, SUBFLOW_CYCLE, SUBFLOW_DEPTH } from './child-run';
import { compileGraph } from './compile';
import type { CanvasGraph } from './graph';
import type { NodeEvaluationResult } from './evaluation-protocol';
import { initialState, step, type Happening, type RunState, type StepResult } from './run-machine';
import { prepareRunStart } from './run-start';
import { applyEvents, emptyRunView, type ViewEvent } from './run-view';
import { validateGraph } from './validate';
import { derivedUuid } from '../activities/child-run';

const T = '2026-01-01T00:00:00.000Z';

describe('the chain of a child run', () => {
  it('is the ancestors and the parent, outermost first', () => {
    expect(childChain(undefined, 'a')).toEqual(['a']);
    expect(childChain(['a', 'b'], 'c')).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['a workflow that runs itself', ['a'], 'a', SUBFLOW_CYCLE, 'a → a'],
    ['a cycle through another', ['a', 'b'], 'a', SUBFLOW_CYCLE, 'a → b → a'],
    ['the same id in another case', ['ABC'], 'abc', SUBFLOW_CYCLE, 'ABC → abc'],
    ['a chain over the depth limit', ['a', 'b', 'c'], 'd', SUBFLOW_DEPTH, 'a → b → c → d'],
  ])('refuses %s', (_, chain, child, code, named) => {
    const problem = childChainProblem(chain, child, 2);
    expect(problem?.code).toBe(code);
    expect(problem?.message).toContain(named);
  });

  it('lets a child start within the depth limit', () => {
    expect(childChainProblem(['a', 'b'], 'c', 2)).toBeNull();
  });
});

describe("a child run's id", () => {
  it('is the same for the same place under the parent and differs for another node or tool call', () => {
    const node = childRunKey({ parentExecutionId: 'p', nodeId: 'sub' });
    const call = childRunKey({ parentExecutionId: 'p', nodeId: 'a', call: { round: 1, callId: 'c1' } });
    expect(derivedUuid(node)).toBe(derivedUuid(childRunKey({ parentExecutionId: 'p', nodeId: 'sub' })));
    expect(new Set([node, call, childRunKey({ parentExecutionId: 'p', nodeId: 'a', call: { round: 2, callId: 'c1' } })]).size).toBe(3);
    expect(derivedUuid(node)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedUuid(node)).not.toBe(derivedUuid(call));
  });
});

const graph = (inputs: Record<string, unknown> = {}): CanvasGraph => ({
  nodes: [
    { id: 'start', type: 'trigger', data: { inputs: { word: { type: 'string', required: true }, n: { type: 'number' } } } },
    { id: 'sub', type: 'subflow', data: { workflowId: 'child-wf', inputs } },
    { id: 'out', type: 'output', data: { value: '{{nodes.sub.out}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'sub' },
    { id: 'e2', source: 'sub', target: 'out' },
  ],
});

describe('prepareRunStart', () => {
  const request = { tenantId: 't', executionId: 'e', workflowId: 'w', version: 2, runInputsMaxBytes: 1024, idempotencyKey: null, startedBy: null, trigger: { type: 'manual' as const } };

  it('makes the row of a run: the plan, the coerced inputs, the Temporal id, the parent', () => {
    const prepared = prepareRunStart({ ...request, graph: graph(), inputs: { word: 'tea', n: '3' }, parentExecutionId: 'p' });
    expect(prepared.ok && prepared.record).toMatchObject({ id: 'e', workflowVersion: 2, inputs: { word: 'tea', n: 3 }, temporalWorkflowId: 'tenant/t/execution/e', parentExecutionId: 'p' });
  });

  it.each([
    ['inputs that do not fit the trigger', { n: 1 }, 'INPUTS_INVALID', 422],
    ['inputs over the size cap', { word: 'x'.repeat(2000) }, 'INPUTS_TOO_LARGE', 413],
  ])('refuses %s', (_, inputs, code, status) => {
    const prepared = prepareRunStart({ ...request, graph: graph(), inputs });
    expect(prepared.ok).toBe(false);
    expect(!prepared.ok && prepared.problem).toMatchObject({ code, status });
  });

  it('refuses a version that does not validate', () => {
    const prepared = prepareRunStart({ ...request, graph: { nodes: [], edges: [] }, inputs: {} });
    expect(!prepared.ok && prepared.problem.code).toBe('GRAPH_INVALID');
  });
});

describe('the subflow node', () => {
  it('validates its input templates', () => {
    const errors = validateGraph(graph({ word: '{{#if}}' })).errors;
    expect(errors).toEqual([expect.objectContaining({ code: 'TEMPLATE_SYNTAX', nodeId: 'sub', message: expect.stringContaining('data.inputs.word') })]);
    expect(validateGraph(graph({ word: '{{inputs.word}}' })).valid).toBe(true);
  });

  const plan = compileGraph(graph({ word: '{{inputs.word}}!' }), { workflowId: 'parent-wf', workflowVersion: 1 });
  const evaluated: Happening = { type: 'evaluated', at: T, results: { sub: { status: 'evaluated', values: { word: 'tea!' }, bytes: 4 } satisfies NodeEvaluationResult } };

  function run(happenings: Happening[]): { state: RunState; steps: StepResult[] } {
    let state = initialState(plan, { word: 'tea' });
    const steps: StepResult[] = [];
    for (const h of [{ type: 'started', at: T } as Happening, ...happenings]) {
      const r = step(plan, state, h);
      steps.push(r);
      state = r.state;
    }
    return { state, steps };
  }

  it('asks for its input templates, then runs its child with the rendered inputs', () => {
    const { steps } = run([evaluated]);
    const ask = steps[0]!.commands[0]!;
    expect(ask.type === 'evaluate' && ask.input.nodes).toEqual([{ nodeId: 'sub', fields: { word: { kind: 'template', source: '{{inputs.word}}!' } } }]);
    expect(steps[1]!.commands).toEqual([{ type: 'runChild', nodeId: 'sub', workflowId: 'child-wf', inputs: { word: 'tea!' } }]);
    expect(steps[1]!.ledger.nodes).toEqual([expect.objectContaining({ nodeId: 'sub', status: 'running', input: { workflowId: 'child-wf', version: null, inputs: { word: 'tea!' } } })]);
  });

  it("records the child's id, and its outputs become the node's output", () => {
    const { state, steps } = run([
      evaluated,
      { type: 'childStarted', at: T, nodeId: 'sub', childExecutionId: 'child-1', childWorkflowId: 'wf-1' },
      { type: 'childEnded', at: T, nodeId: 'sub', outputs: { out: 'done' } },
      { type: 'evaluated', at: T, results: { out: { status: 'evaluated', values: { value: 'done' }, bytes: 6 } } },
    ]);
    expect(steps[2]!.ledger.events).toEqual([expect.objectContaining({ type: 'subflow.started', nodeId: 'sub', data: { status: 'running', childExecutionId: 'child-1', childWorkflowId: 'wf-1' }, key: 'node:sub:child' })]);
    expect(state.nodeOutputs.sub).toEqual({ out: 'done' });
    expect(state.status).toBe('succeeded');
  });

  it('fails with the reason a child did not succeed', () => {
    const { state } = run([evaluated, { type: 'childEnded', at: T, nodeId: 'sub', error: { code: SUBFLOW_CYCLE, message: 'workflow a would include itself: a → a' } }]);
    expect(state.status).toBe('failed');
    expect(state.error).toEqual({ nodeId: 'sub', code: SUBFLOW_CYCLE, message: 'workflow a would include itself: a → a' });
  });
});

describe('the run view', () => {
  const ev = (seq: number, type: string, nodeId: string, data: Record<string, unknown>): ViewEvent => ({ seq, type, nodeId, at: T, data });

  it("links a subflow node and a workflow tool's call to their child runs", () => {
    const { view } = applyEvents(emptyRunView(['sub', 'a']), [
      ev(1, 'node.started', 'sub', { status: 'running' }),
      ev(2, 'subflow.started', 'sub', { status: 'running', childExecutionId: 'child-1', childWorkflowId: 'wf-1' }),
      ev(3, 'node.started', 'a', { status: 'running' }),
      ev(4, 'model_call.succeeded', 'a', { status: 'running', round: 1, toolCalls: ['lookup'] }),
      ev(5, 'tool_call.started', 'a', { status: 'running', round: 1, callId: 'c1', tool: 'lookup', arguments: {} }),
      ev(6, 'subflow.started', 'a', { status: 'running', childExecutionId: 'child-2', round: 1, callId: 'c1' }),
    ]);
    expect(view.nodes.sub).toMatchObject({ childExecutionId: 'child-1', childWorkflowId: 'wf-1' });
    expect(view.nodes.a!.childExecutionId).toBeUndefined();
    expect(view.nodes.a!.rounds[0]!.calls[0]).toMatchObject({ id: 'c1', childExecutionId: 'child-2' });
  });
});

describe('a workflow that runs itself', () => {
  it('is told when saved: its subflow nodes and workflow tools naming it', () => {
    const graph: CanvasGraph = {
      nodes: [
        { id: 'sub', type: 'subflow', data: { workflowId: 'AAA', inputs: {} } },
        { id: 'other', type: 'subflow', data: { workflowId: 'bbb', inputs: {} } },
        { id: 'a', type: 'agent', data: { tools: [{ type: 'workflow', name: 'again', workflowId: 'aaa' }, { type: 'http', name: 'h' }] } },
      ],
      edges: [],
    };
    expect(selfReferences(graph, 'aaa')).toEqual([
      expect.objectContaining({ nodeId: 'sub', message: expect.stringContaining(SUBFLOW_CYCLE) }),
      expect.objectContaining({ nodeId: 'a', message: expect.stringContaining('again') }),
    ]);
    expect(selfReferences(graph, 'ccc')).toEqual([]);
  });
});
