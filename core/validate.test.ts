import { compileGraph } from './compile';
import { designExampleGraph } from './examples';
import { MAX_NODES } from './graph';
import type { CanvasGraph } from './graph';
import { GRAPH_PROBLEM_CODES, validateGraph } from './validate';
import type { GraphProblem, GraphProblemCode } from './validate';

// Copied verbatim from DESIGN.md §2.
const DESIGN_EXAMPLE_JSON = `{
  "nodes": [
    {"id": "start", "type": "trigger", "position": {"x": 0, "y": 0},
     "data": {"inputs": {"topic": {"type": "string", "required": true}}}},
    {"id": "draft", "type": "agent", "position": {"x": 250, "y": 0},
     "data": {"provider": "echo", "model": "echo-1", "system": "You are a writer.",
              "prompt": "Write about {{inputs.topic}}", "retry": {"maximumAttempts": 3}}},
    {"id": "check", "type": "condition", "position": {"x": 500, "y": 0},
     "data": {"expression": "$length(nodes.draft.text) > 10"}},
    {"id": "review", "type": "approval", "position": {"x": 750, "y": 0},
     "data": {"title": "Publish?", "timeoutSeconds": 86400, "onTimeout": "reject"}},
    {"id": "done", "type": "output", "position": {"x": 1000, "y": 0},
     "data": {"value": "{{nodes.draft.text}}"}}
  ],
  "edges": [
    {"id": "e1", "source": "start", "target": "draft"},
    {"id": "e2", "source": "draft", "target": "check"},
    {"id": "e3", "source": "check", "sourceHandle": "true", "target": "review"},
    {"id": "e4", "source": "review", "sourceHandle": "approved", "target": "done"}
  ]
}`;

type Doc = { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] };

/** trigger → output: the smallest valid graph, which each case below breaks in exactly one way. */
function minimalGraph(): Doc {
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: {} } },
      { id: 'done', type: 'output', position: { x: 200, y: 0 }, data: { value: 'finished' } },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'done' }],
  };
}

function codes(problems: GraphProblem[]): GraphProblemCode[] {
  return problems.map((problem) => problem.code);
}

describe('validateGraph', () => {
  test('the DESIGN.md example graph validates clean', () => {
    const example: unknown = JSON.parse(DESIGN_EXAMPLE_JSON);
    expect(validateGraph(example)).toEqual({ valid: true, errors: [] });
    expect(example).toEqual(designExampleGraph());
  });

  test('the smallest graph, a trigger wired to an output, validates clean', () => {
    expect(validateGraph(minimalGraph())).toEqual({ valid: true, errors: [] });
  });

  // One case per code; typed as a Record so a new code cannot be added without a case here.
  const cases: Record<GraphProblemCode, { build: () => unknown; expect: Partial<GraphProblem>; only?: boolean }> = {
    INVALID_DOCUMENT: {
      build: () => ({ nodes: minimalGraph().nodes, edges: 'e1' }),
      expect: { message: '"edges" must be an array' },
      only: true,
    },
    MISSING_NODE_ID: {
      build: () => {
        const g = minimalGraph();
        g.nodes.push({ type: 'output', data: { value: 'x' } });
        return g;
      },
      expect: {},
      only: true,
    },
    DUPLICATE_NODE_ID: {
      build: () => {
        const g = minimalGraph();
        g.nodes.push({ id: 'done', type: 'output', data: { value: 'again' } });
        return g;
      },
      expect: { nodeId: 'done' },
      only: true,
    },
    MISSING_EDGE_ID: {
      build: () => {
        const g = minimalGraph();
        delete g.edges[0]!['id'];
        return g;
      },
      expect: {},
      only: true,
    },
    DUPLICATE_EDGE_ID: {
      build: () => {
        const g = minimalGraph();
        g.nodes.push({ id: 'done2', type: 'output', data: { value: 'x' } });
        g.edges.push({ id: 'e1', source: 'start', target: 'done2' });
        return g;
      },
      expect: { edgeId: 'e1' },
      only: true,
    },
    UNKNOWN_NODE_TYPE: {
      build: () => {
        const g = minimalGraph();
        g.nodes.push({ id: 'hook', type: 'webhook', data: {} });
        g.edges.push({ id: 'e2', source: 'start', target: 'hook' });
        return g;
      },
      expect: { nodeId: 'hook' },
      only: true,
    },
    INVALID_NODE_CONFIG: {
      build: () => {
        const g = minimalGraph();
        g.nodes.push({ id: 'draft', type: 'agent', data: { provider: 'echo', model: 'echo-1', prompt: 'hi', temperature: 5 } });
        g.edges.push({ id: 'e2', source: 'start', target: 'draft' });
        return g;
      },
      expect: { nodeId: 'draft' },
      only: true,
    },
    DANGLING_EDGE: {
      build: () => {
        const g = minimalGraph();
        g.edges.push({ id: 'e2', source: 'start', target: 'ghost' });
        return g;
      },
      expect: { edgeId: 'e2' },
      only: true,
    },
    INVALID_SOURCE_HANDLE: {
      build: () => {
        const g = minimalGraph();
        g.edges[0]!['sourceHandle'] = 'true';
        return g;
      },
      expect: { edgeId: 'e1' },
      only: true,
    },
    EDGE_INTO_TRIGGER: {
      // Any edge into the trigger from a reachable node also closes a cycle, so this case is not alone.
      build: () => {
        const g = minimalGraph();
        g.edges.push({ id: 'back', source: 'done', target: 'start' });
        return g;
      },
      expect: { edgeId: 'back' },
    },
    SELF_LOOP: {
      build: () => {
        const g = minimalGraph();
        g.edges.push({ id: 'loop', source: 'done', target: 'done' });
        return g;
      },
      expect: { nodeId: 'done', edgeId: 'loop' },
      only: true,
    },
    CYCLE: {
      build: () => {
        const g = minimalGraph();
        g.nodes.push({ id: 'a', type: 'transform', data: { template: 'a' } }, { id: 'b', type: 'transform', data: { template: 'b' } });
        g.edges.push(
          { id: 'e2', source: 'start', target: 'a' },
          { id: 'e3', source: 'a', target: 'b' },
          { id: 'e4', source: 'b', target: 'a' },
        );
        return g;
      },
      expect: { nodeId: 'a', message: 'these nodes form a cycle: a, b' },
      only: true,
    },
    TRIGGER_COUNT: {
      build: () => {
        const g = minimalGraph();
        g.nodes.push({ id: 'start2', type: 'trigger', data: {} });
        g.edges.push({ id: 'e2', source: 'start2', target: 'done' });
        return g;
      },
      expect: { nodeId: 'start2' },
      only: true,
    },
    NO_OUTPUT: {
      build: () => ({ nodes: [minimalGraph().nodes[0]], edges: [] }),
      expect: {},
      only: true,
    },
    UNREACHABLE_NODE: {
      build: () => {
        const g = minimalGraph();
        g.nodes.push({ id: 'orphan', type: 'output', data: { value: 'never' } });
        return g;
      },
      expect: { nodeId: 'orphan' },
      only: true,
    },
    TEMPLATE_SYNTAX: {
      build: () => {
        const g = minimalGraph();
        g.nodes[1]!['data'] = { value: '{{#if inputs.x}}unclosed' };
        return g;
      },
      expect: { nodeId: 'done' },
      only: true,
    },
    EXPRESSION_SYNTAX: {
      build: () => {
        const g = minimalGraph();
        g.nodes.push({ id: 'calc', type: 'transform', data: { expression: '1 +' } });
        g.edges.push({ id: 'e2', source: 'start', target: 'calc' }, { id: 'e3', source: 'calc', target: 'done' });
        return g;
      },
      expect: { nodeId: 'calc' },
      only: true,
    },
  };

  test.each(GRAPH_PROBLEM_CODES.map((code) => [code]))('a graph with a %s problem is reported with that code', (code) => {
    const spec = cases[code];
    const result = validateGraph(spec.build());
    expect(result.valid).toBe(false);
    expect(result.errors).toContainEqual(expect.objectContaining({ code, ...spec.expect }));
    if (spec.only) expect(codes(result.errors)).toEqual([code]);
  });

  test.each([
    ['null', null],
    ['a number', 42],
    ['a string', 'graph'],
    ['an array', []],
    ['an object without nodes or edges', {}],
  ])('%s is an invalid document', (_what, input) => {
    const result = validateGraph(input);
    expect(result.valid).toBe(false);
    expect(codes(result.errors)).toContain('INVALID_DOCUMENT');
  });

  test('a graph with more than MAX_NODES nodes is refused without checking each node', () => {
    const nodes = Array.from({ length: MAX_NODES + 1 }, (_, i) => ({ id: `n${i}`, type: 'nope' }));
    const result = validateGraph({ nodes, edges: [] });
    expect(result.errors).toEqual([expect.objectContaining({ code: 'INVALID_DOCUMENT', message: expect.stringContaining(String(MAX_NODES)) })]);
  });

  test('each failing field of a node config is its own problem, with its path', () => {
    const g = minimalGraph();
    g.nodes.push({ id: 'draft', type: 'agent', data: { provider: 'echo', model: '', temperature: 5, retry: { maximumAttempts: 0 } } });
    g.edges.push({ id: 'e2', source: 'start', target: 'draft' });
    const messages = validateGraph(g).errors.filter((p) => p.code === 'INVALID_NODE_CONFIG').map((p) => p.message);
    expect(messages).toHaveLength(4);
    for (const path of ['data.model', 'data.prompt', 'data.temperature', 'data.retry.maximumAttempts']) {
      expect(messages.some((message) => message.includes(`${path}:`))).toBe(true);
    }
  });

  describe("an agent's tools", () => {
    const withTools = (data: Record<string, unknown>): Doc => {
      const g = minimalGraph();
      g.nodes.push({ id: 'draft', type: 'agent', data: { provider: 'openai', model: 'm', prompt: 'p', ...data } });
      g.edges.push({ id: 'e2', source: 'start', target: 'draft' });
      return g;
    };
    const http = (name: string, extra: Record<string, unknown> = {}) => ({ type: 'http', name, method: 'GET', url: 'https://example.com/{{args.q}}', ...extra });
    const problems = (g: Doc) => validateGraph(g).errors.map((p) => `${p.code} ${p.nodeId}: ${p.message}`);

    test('http, mcp and workflow tools with a valid schema, rounds and approvals validate and compile', () => {
      const g = withTools({
        tools: [
          http('lookup', { parameters: { type: 'object', properties: { q: { type: 'string', format: 'email' } }, required: ['q'] } }),
          { type: 'mcp', serverId: 's1', tools: ['search'] },
          { type: 'workflow', name: 'child', workflowId: 'w1' },
        ],
        maxToolRounds: 3,
        toolApproval: ['lookup'],
      });
      expect(problems(g)).toEqual([]);
      const plan = compileGraph(g as CanvasGraph, { workflowId: 'wf', workflowVersion: 1 });
      expect(plan.nodes.find((n) => n.id === 'draft')?.data).toMatchObject({ maxToolRounds: 3, tools: [expect.objectContaining({ name: 'lookup' }), expect.anything(), expect.anything()] });
    });

    test('two tools of one name are a problem naming it', () => {
      expect(problems(withTools({ tools: [http('lookup'), http('lookup')] }))).toEqual([
        'INVALID_NODE_CONFIG draft: node "draft": data.tools[1]: the tool name "lookup" is used more than once',
      ]);
    });

    test('parameters that are not a JSON Schema (ajv refuses them), or not an object schema, are problems', () => {
      const found = problems(
        withTools({ tools: [http('a', { parameters: { type: 'object', properties: { q: { type: 'strng' } } } }), http('b', { parameters: { type: 'object', propertis: {} } }), http('c', { parameters: { type: 'string' } })] }),
      );
      expect(found).toHaveLength(3);
      expect(found[0]).toMatch(/data\.tools\[0\] \(a\): parameters is not a valid JSON Schema: .*type/);
      expect(found[1]).toMatch(/data\.tools\[1\] \(b\): parameters is not a valid JSON Schema: .*propertis/);
      expect(found[2]).toMatch(/data\.tools\[2\] \(c\): parameters must be a JSON Schema of type "object"/);
    });

    test('bad names, rounds out of range, an approval of no tool and a bad url template are each a problem', () => {
      const found = problems(withTools({ tools: [http('has space'), http('ok', { url: '{{#if}}' })], maxToolRounds: 51, toolApproval: ['missing'] }));
      expect(found.some((m) => m.includes('data.tools[0].name'))).toBe(true);
      expect(found.some((m) => m.includes('data.maxToolRounds'))).toBe(true);
      const g = withTools({ tools: [http('ok', { url: '{{#if}}' })], toolApproval: ['missing'] });
      expect(problems(g)).toEqual([
        expect.stringMatching(/^TEMPLATE_SYNTAX draft: node "draft": data\.tools\[0\] \(ok\): url: /),
        'INVALID_NODE_CONFIG draft: node "draft": data.toolApproval names "missing", which is none of the agent\'s tools',
      ]);
    });
  });

  test('a transform with both a template and an expression says to choose one', () => {
    const g = minimalGraph();
    g.nodes.push({ id: 'calc', type: 'transform', data: { template: 'a', expression: '1' } });
    g.edges.push({ id: 'e2', source: 'start', target: 'calc' });
    expect(validateGraph(g).errors).toEqual([
      expect.objectContaining({ code: 'INVALID_NODE_CONFIG', nodeId: 'calc', message: expect.stringContaining('exactly one') }),
    ]);
  });

  test('a trigger input whose default does not fit its type is a config problem', () => {
    const g = minimalGraph();
    g.nodes[0]!['data'] = { inputs: { count: { type: 'number', default: 'many' } } };
    expect(validateGraph(g).errors).toEqual([expect.objectContaining({ code: 'INVALID_NODE_CONFIG', nodeId: 'start' })]);
  });

  test('edges from a condition or an approval must name one of its handles', () => {
    const g = designExampleGraph();
    g.edges[2]!.sourceHandle = undefined;
    g.edges[3]!.sourceHandle = 'maybe';
    const handleProblems = validateGraph(g).errors.filter((p) => p.code === 'INVALID_SOURCE_HANDLE');
    expect(handleProblems.map((p) => p.edgeId)).toEqual(['e3', 'e4']);
  });

  test('every problem of a badly broken graph is reported at once', () => {
    const doc = {
      nodes: [
        { id: 'start', type: 'trigger', data: { inputs: {} } },
        { id: 'draft', type: 'agent', data: { provider: 'nobody', model: 'm', prompt: '{{#each}}' } },
        { id: 'draft', type: 'output', data: { value: 'dup' } },
        { id: 'check', type: 'condition', data: { expression: 'a ==' } },
        { id: 'loner', type: 'transform', data: { template: 'x' } },
        { type: 'output', data: { value: 'no id' } },
        'not a node',
        { id: 'what', type: 42 },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'draft' },
        { id: 'e1', source: 'draft', target: 'check' },
        { id: 'e3', source: 'check', target: 'nowhere' },
        { source: 'check', sourceHandle: 'true', target: 'start' },
      ],
    };
    const found = new Set(codes(validateGraph(doc).errors));
    for (const code of [
      'INVALID_DOCUMENT',
      'MISSING_NODE_ID',
      'DUPLICATE_NODE_ID',
      'MISSING_EDGE_ID',
      'DUPLICATE_EDGE_ID',
      'UNKNOWN_NODE_TYPE',
      'INVALID_NODE_CONFIG',
      'DANGLING_EDGE',
      'INVALID_SOURCE_HANDLE',
      'EDGE_INTO_TRIGGER',
      'CYCLE',
      'NO_OUTPUT',
      'UNREACHABLE_NODE',
      'EXPRESSION_SYNTAX',
    ] as const) {
      expect(found).toContain(code);
    }
  });

  test('a cycle is reported once, naming all of its nodes', () => {
    const g = minimalGraph();
    g.nodes.push(
      { id: 'a', type: 'transform', data: { template: 'a' } },
      { id: 'b', type: 'transform', data: { template: 'b' } },
      { id: 'c', type: 'transform', data: { template: 'c' } },
    );
    g.edges.push(
      { id: 'e2', source: 'start', target: 'a' },
      { id: 'e3', source: 'a', target: 'b' },
      { id: 'e4', source: 'b', target: 'c' },
      { id: 'e5', source: 'c', target: 'a' },
      { id: 'e6', source: 'c', target: 'b' },
    );
    const cycles = validateGraph(g).errors.filter((p) => p.code === 'CYCLE');
    expect(cycles).toEqual([{ code: 'CYCLE', message: 'these nodes form a cycle: a, b, c', nodeId: 'a' }]);
  });

  test('a long chain of 2000 nodes validates without exhausting the stack', () => {
    const nodes: Record<string, unknown>[] = [{ id: 'n0', type: 'trigger', data: {} }];
    const edges: Record<string, unknown>[] = [];
    for (let i = 1; i < MAX_NODES; i += 1) {
      nodes.push({ id: `n${i}`, type: i === MAX_NODES - 1 ? 'output' : 'transform', data: i === MAX_NODES - 1 ? { value: 'v' } : { template: 't' } });
      edges.push({ id: `e${i}`, source: `n${i - 1}`, target: `n${i}` });
    }
    edges.push({ id: 'back', source: `n${MAX_NODES - 1}`, target: 'n1' });
    const result = validateGraph({ nodes, edges });
    expect(codes(result.errors)).toEqual(['CYCLE']);
  });
});

/** mulberry32: a small seeded PRNG, so a failing fuzz case can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('validateGraph on random malformed documents', () => {
  const random = prng(20240917);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const int = (max: number) => Math.floor(random() * max);

  function garbage(depth = 0): unknown {
    const kinds = ['null', 'undefined', 'number', 'nan', 'string', 'template', 'bool', 'array', 'object', 'deep'] as const;
    switch (pick(depth > 2 ? kinds.slice(0, 7) : kinds)) {
      case 'null':
        return null;
      case 'undefined':
        return undefined;
      case 'number':
        return pick([0, -1, 1.5, 1e300, Number.MAX_SAFE_INTEGER]);
      case 'nan':
        return pick([Number.NaN, Number.POSITIVE_INFINITY]);
      case 'string':
        return pick(['', 'x', 'start', 'done', 'true', '__proto__', 'constructor', 'trigger', 'output', '💥'.repeat(3)]);
      case 'template':
        return pick(['{{', '{{#if}}', '{{> partial}}', '{{inputs.topic}}', '$length(', ')(', '{{/each}}']);
      case 'bool':
        return random() < 0.5;
      case 'array':
        return Array.from({ length: int(4) }, () => garbage(depth + 1));
      case 'object':
        return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['id', 'type', 'data', 'x', 'source', '__proto__']), garbage(depth + 1)]));
      case 'deep': {
        let deep: unknown = 'bottom';
        for (let i = 0; i < 5000; i += 1) deep = random() < 0.5 ? [deep] : { inner: deep };
        return deep;
      }
    }
  }

  function validVariant(): Doc {
    const base = random() < 0.5 ? (designExampleGraph() as unknown as Doc) : minimalGraph();
    // Valid additions, so the fuzz also covers graphs that pass and must then compile.
    const extras = int(4);
    for (let i = 0; i < extras; i += 1) {
      const id = `extra${i}`;
      const from = pick(base.nodes.filter((node) => node['type'] !== 'output' && node['type'] !== 'condition' && node['type'] !== 'approval'));
      base.nodes.push(
        pick([
          { id, type: 'output', data: { value: `{{json nodes.${String(from['id'])}}}` } },
          { id, type: 'transform', data: { expression: '$count(nodes)' } },
        ]),
      );
      base.edges.push({ id: `x${i}`, source: from['id'], target: id });
    }
    return base;
  }

  function mutate(doc: Doc): unknown {
    // Earlier mutations may have left garbage in the lists: only objects are edited further.
    const asObject = (value: unknown) => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined);
    const node = () => asObject(doc.nodes[int(doc.nodes.length)]);
    const edge = () => asObject(doc.edges[int(doc.edges.length)]);
    const ids = () => [...doc.nodes.map((n) => asObject(n)?.['id']), 'ghost', garbage()];
    switch (int(14)) {
      case 0: {
        const n = node();
        if (n) delete n[pick(['id', 'type', 'data', 'position'])];
        return doc;
      }
      case 1: {
        const n = node();
        if (n) n[pick(['id', 'type', 'data', 'position'])] = garbage();
        return doc;
      }
      case 2: {
        const n = node();
        const data = asObject(n?.['data']);
        if (data) data[pick(['prompt', 'inputs', 'expression', 'value', 'template', 'title', 'retry', 'zzz'])] = garbage();
        return doc;
      }
      case 3: {
        const e = edge();
        if (e) delete e[pick(['id', 'source', 'target', 'sourceHandle'])];
        return doc;
      }
      case 4: {
        const e = edge();
        if (e) e[pick(['id', 'source', 'target', 'sourceHandle', 'targetHandle'])] = garbage();
        return doc;
      }
      case 5:
        doc.edges.push({ id: `r${int(1000)}`, source: pick(ids()), target: pick(ids()), sourceHandle: pick([undefined, null, 'true', 'false', 'approved', 'nope']) });
        return doc;
      case 6: {
        // A back edge: from a later node to an earlier one, usually closing a cycle.
        const to = asObject(doc.nodes[int(doc.nodes.length)]);
        const from = asObject(doc.nodes[doc.nodes.length - 1]);
        doc.edges.push({ id: `back${int(100)}`, source: from?.['id'], target: to?.['id'] });
        return doc;
      }
      case 7:
        doc.nodes.push({ ...(node() ?? {}) });
        return doc;
      case 8:
        doc.nodes[int(doc.nodes.length)] = garbage() as Record<string, unknown>;
        return doc;
      case 9:
        doc.edges[int(doc.edges.length + 1)] = garbage() as Record<string, unknown>;
        return doc;
      case 10:
        return { ...doc, [pick(['nodes', 'edges'])]: garbage() };
      case 11:
        return garbage();
      case 12: {
        const n = node();
        if (n) n['type'] = pick(['trigger', 'agent', 'transform', 'condition', 'approval', 'output', 'http', '']);
        return doc;
      }
      default:
        doc.nodes.splice(int(doc.nodes.length), 1);
        return doc;
    }
  }

  test('600 mutated documents never make it throw, and every one that validates also compiles', () => {
    let validCount = 0;
    for (let round = 0; round < 600; round += 1) {
      let doc: unknown = validVariant();
      const mutations = round % 5 === 0 ? 0 : 1 + int(4);
      for (let m = 0; m < mutations; m += 1) {
        if (doc && typeof doc === 'object' && Array.isArray((doc as Doc).nodes) && Array.isArray((doc as Doc).edges)) doc = mutate(doc as Doc);
      }
      let result: ReturnType<typeof validateGraph> | undefined;
      expect(() => {
        result = validateGraph(doc);
      }).not.toThrow();
      expect(Array.isArray(result?.errors)).toBe(true);
      expect(result?.valid).toBe(result?.errors.length === 0);
      for (const problem of result?.errors ?? []) {
        expect(GRAPH_PROBLEM_CODES).toContain(problem.code);
        expect(typeof problem.message).toBe('string');
        // The last-resort catch must never be what answered: that would be a validator bug.
        expect(problem.message).not.toMatch(/could not be validated/);
      }
      if (result?.valid) {
        validCount += 1;
        const plan = compileGraph(doc as CanvasGraph, { workflowId: 'wf', workflowVersion: 1 });
        expect(plan.nodes).toHaveLength((doc as Doc).nodes.length);
        expect(plan.nodes[0]?.type).toBe('trigger');
      }
    }
    // The fuzz is only meaningful if both sides were exercised.
    expect(validCount).toBeGreaterThan(100);
    expect(validCount).toBeLessThan(600);
  });
});

describe('onError and the error handle', () => {
  /** start → a (an agent with onError) → done, plus the extra edges and data given. */
  const withAgent = (onError: unknown, extraEdges: Record<string, unknown>[] = []): Doc => ({
    nodes: [
      { id: 'start', type: 'trigger', data: { inputs: {} } },
      { id: 'a', type: 'agent', data: { provider: 'echo', model: 'echo-1', prompt: 'hi', ...(onError === undefined ? {} : { onError }) } },
      { id: 'fix', type: 'agent', data: { provider: 'echo', model: 'echo-1', prompt: 'fix {{nodes.a.error.message}}' } },
      { id: 'done', type: 'output', data: { value: 'x' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'a' },
      { id: 'e2', source: 'a', target: 'done' },
      { id: 'e4', source: 'fix', target: 'done' },
      ...extraEdges,
    ],
  });
  const fromError = { id: 'e3', source: 'a', target: 'fix', sourceHandle: 'error' };
  const fromNormal = { id: 'e3', source: 'a', target: 'fix' };

  test('an onError branch agent has its normal handle and "error"', () => {
    expect(validateGraph(withAgent('branch', [fromError])).errors).toEqual([]);
  });

  test('continue and fail are accepted on the normal handle', () => {
    expect(validateGraph(withAgent('continue', [fromNormal])).errors).toEqual([]);
    expect(validateGraph(withAgent('fail', [fromNormal])).errors).toEqual([]);
  });

  test('a branch agent without an error edge is valid (a failure then skips its normal edges)', () => {
    expect(validateGraph(withAgent('branch', [fromNormal])).errors).toEqual([]);
  });

  test('an edge from "error" of an agent without branch names the fix', () => {
    for (const onError of [undefined, 'continue']) {
      const errors = validateGraph(withAgent(onError, [fromError])).errors;
      expect(errors).toEqual([
        {
          code: 'INVALID_SOURCE_HANDLE',
          edgeId: 'e3',
          message: 'edge "e3": agent node "a" has an "error" handle only with onError "branch" (set its onError to "branch", or connect the edge to its normal handle)',
        },
      ]);
    }
  });

  test('a branch agent has no other named handle', () => {
    const errors = validateGraph(withAgent('branch', [{ ...fromError, sourceHandle: 'oops' }])).errors;
    expect(errors.map((e) => [e.code, e.message])).toEqual([['INVALID_SOURCE_HANDLE', 'edge "e3": an edge from agent node "a" leaves its normal handle (naming none) or "error" (got "oops")']]);
  });

  test('an unknown onError is a config problem; a node type that cannot fail has no onError', () => {
    expect(codes(validateGraph(withAgent('retry', [fromNormal])).errors)).toEqual(['INVALID_NODE_CONFIG']);
    const doc = minimalGraph();
    doc.nodes[1]!.data = { value: 'x', onError: 'continue' };
    expect(codes(validateGraph(doc).errors)).toEqual(['INVALID_NODE_CONFIG']);
  });

  test('a transform gives no "error" handle', () => {
    const doc = minimalGraph();
    doc.nodes.push({ id: 't', type: 'transform', data: { template: 'x' } });
    doc.edges.push({ id: 'e2', source: 'start', target: 't' }, { id: 'e3', source: 't', target: 'done', sourceHandle: 'error' });
    expect(validateGraph(doc).errors.map((e) => e.message)).toEqual(['edge "e3": a transform node has a single out handle, so the edge names none (got "error")']);
  });
});
