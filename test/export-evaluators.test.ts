// The exported package's Python evaluators against the platform's own: every template and expression of the
// supported subset must give the same text/value in both, and what the subset leaves out is refused at export.
import { compileExportPlan, ExportUnsupported } from '../core/export-plan';
import { evaluateExpression } from '../core/expression';
import type { RunPlan } from '../core/plan';
import { renderTemplate, type TemplateScope } from '../core/template';
import { evaluateInPython, type PythonCase } from './support/python-evaluators';

const scope: TemplateScope = {
  inputs: {
    topic: 'Zürich "quotes" \\ back\nslash {{ not a tag }} 😀',
    n: 7,
    f: 2.5,
    tiny: 0.0000001,
    big: 1e21,
    neg: -3,
    zero: 0,
    yes: true,
    no: false,
    empty: '',
    nothing: null,
    list: ['a', 'b', 'c'],
    nums: [1, 2.5, 3],
    one: [42],
    objs: [{ name: 'x', v: 1 }, { name: 'y', v: 2 }],
    obj: { b: 1, a: [1, { c: null }], '2': 'two', '1': 'one', 'with space': 'ok' },
    emptyList: [],
    emptyObj: {},
    spaces: '  lots   of \t space \n here ',
  },
  nodes: {
    draft: { text: 'Hello world', usage: { inputTokens: 2, outputTokens: 2, totalTokens: 4 }, model: 'echo-1', provider: 'echo' },
    check: { result: true },
  },
};

const TEMPLATES = [
  'plain text',
  'Topic: {{inputs.topic}}',
  '{{inputs.n}} {{inputs.f}} {{inputs.tiny}} {{inputs.big}} {{inputs.neg}} {{inputs.zero}} {{inputs.yes}} {{inputs.no}} [{{inputs.nothing}}] [{{inputs.missing}}] [{{inputs.missing.deep}}]',
  '{{inputs.list}} {{inputs.obj}} {{inputs.objs}} {{inputs.emptyList}} {{inputs.emptyObj}} {{nodes.draft}}',
  '{{json inputs.obj}}|{{json inputs.topic}}|{{json inputs.obj indent=2}}|{{json}}|{{json inputs.missing}}|{{json inputs.nums indent=4}}',
  '{{inputs.list.length}} {{inputs.list.[1]}} {{inputs.obj.[with space]}} {{inputs.topic.length}}',
  '{{#if inputs.yes}}Y{{else}}N{{/if}}{{#if inputs.no}}Y{{else}}N{{/if}}{{#if inputs.zero}}Y{{else}}N{{/if}}{{#if inputs.zero includeZero=true}}Y{{else}}N{{/if}}{{#if inputs.emptyList}}Y{{else}}N{{/if}}{{#if inputs.emptyObj}}Y{{else}}N{{/if}}{{#if inputs.empty}}Y{{else}}N{{/if}}',
  '{{#unless inputs.no}}u{{/unless}}{{#if inputs.no}}a{{else if inputs.yes}}b{{else}}c{{/if}}',
  '{{#each inputs.list}}{{@index}}:{{this}}{{#if @first}}(first){{/if}}{{#if @last}}(last){{/if}},{{/each}}',
  '{{#each inputs.obj}}{{@key}}={{this}};{{/each}}{{#each inputs.emptyList}}x{{else}}none{{/each}}',
  '{{#each inputs.objs}}{{name}}-{{v}}-{{../inputs.n}}-{{@root.inputs.n}} {{/each}}',
  '{{#with nodes.draft}}{{text}} by {{provider}}{{/with}}{{#with inputs.missing}}x{{else}}no draft{{/with}}',
  'Line one\n{{#if inputs.yes}}\n  standalone\n{{/if}}\nend {{~ inputs.n ~}} !',
  '{{lookup inputs.obj "b"}} {{lookup inputs.list 1}} {{! a comment }}{{!-- another --}}',
  '{{{inputs.topic}}} {{nodes.check.result}} {{nodes.draft.usage.totalTokens}}',
];

const EXPRESSIONS = [
  'inputs.n',
  'inputs.n * 2 + 1',
  'inputs.f / 2',
  'inputs.n / 3',
  'inputs.n % 3',
  'inputs.neg % 2',
  '-inputs.n',
  'inputs.missing + 1',
  '$length(nodes.draft.text) > 10',
  '$length(inputs.topic)',
  'inputs.n > 3 and inputs.yes',
  'inputs.n < 3 or inputs.no',
  'inputs.zero or inputs.empty',
  'inputs.emptyObj and true',
  'inputs.list and true',
  'inputs.one',
  'inputs.list',
  'inputs.objs.name',
  'inputs.objs.v',
  'inputs.topic & "!" & inputs.n & inputs.f & inputs.yes & inputs.missing',
  '"x" & inputs.obj',
  '$string(0.1 + 0.2)',
  '$string(inputs.nums)',
  '$number("42")',
  '$number("2.5e3")',
  '$boolean(inputs.emptyList)',
  '$boolean(inputs.emptyObj)',
  '$boolean(inputs.nothing)',
  '$not(inputs.yes)',
  '$exists(inputs.missing)',
  '$exists(inputs.nothing)',
  '$uppercase(inputs.topic)',
  '$lowercase("ÀB")',
  '$trim(inputs.spaces)',
  '$contains(nodes.draft.text, "world")',
  '$substring(inputs.topic, 2, 5)',
  '$substring(inputs.topic, -3)',
  '$substring(inputs.topic, -5, 2)',
  '$join(inputs.list, ", ")',
  '$join(inputs.objs.name)',
  '$count(inputs.list)',
  '$count(inputs.missing)',
  '$sum(inputs.nums)',
  '$abs(inputs.neg) + $floor(inputs.f) + $ceil(inputs.f)',
  'inputs.n = 7',
  'inputs.obj = inputs.obj',
  'inputs.list = ["a", "b", "c"]',
  'inputs.yes = 1',
  'inputs.n != "7"',
  '"b" in inputs.list',
  '7 in inputs.n',
  'inputs.n > 5 ? "big" : "small"',
  'inputs.no ? "x"',
  '{"topic": inputs.topic, "double": inputs.n * 2, "missing": inputs.missing, "list": [inputs.list, [1, 2]]}',
  '[inputs.one, 1, [2, 3]]',
  '$',
  '$$.inputs.n',
  '(inputs.n; inputs.f)',
  'nodes.check.result = true and nodes.draft.usage.totalTokens >= 4',
  '"a" < "b"',
  'inputs.n < "b"',
  'inputs.topic * 2',
];

describe('exported template and expression evaluators', () => {
  it('render every supported template exactly as the platform does', () => {
    const cases: PythonCase[] = TEMPLATES.map((template) => ({ kind: 'template', ast: astOf('output', { value: template }, 'value'), scope }));
    const python = evaluateInPython(cases);
    TEMPLATES.forEach((template, i) => {
      const expected = renderTemplate(template, scope);
      expect({ template, got: python[i] }).toEqual({ template, got: { value: JSON.stringify(expected) } });
    });
  });

  it('evaluate every supported expression as the platform does, failing where it fails', async () => {
    const cases: PythonCase[] = EXPRESSIONS.map((expression) => ({ kind: 'expression', ast: astOf('condition', { expression }, 'expression'), scope }));
    const python = evaluateInPython(cases);
    for (const [i, expression] of EXPRESSIONS.entries()) {
      let expected: { value: string | null; failed: boolean };
      try {
        const value = await evaluateExpression(expression, scope);
        expected = { value: value === undefined ? null : JSON.stringify(value), failed: false };
      } catch {
        expected = { value: null, failed: true };
      }
      const got = python[i]!;
      expect({ expression, value: got.value, failed: got.error !== undefined }).toEqual({ expression, ...expected });
    }
  });

  it('refuse with every problem listed what the exported evaluators do not implement', () => {
    const plan = planWith([
      { id: 'a', type: 'transform', incoming: [], data: { expression: 'inputs.list[$ = "a"]' } },
      { id: 'b', type: 'condition', incoming: [], data: { expression: '$match(inputs.topic, /x/)' } },
      { id: 'c', type: 'output', incoming: [], data: { value: '{{> partial}}' } },
      { id: 'd', type: 'output', incoming: [], data: { value: '{{#each inputs.list as |item|}}{{item}}{{/each}}' } },
      { id: 'e', type: 'transform', incoming: [], data: { expression: '($x := 1; $x)' } },
      { id: 'f', type: 'transform', incoming: [], data: { template: '{{upper inputs.topic}}' } },
    ]);
    let error: unknown;
    try {
      compileExportPlan(plan);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ExportUnsupported);
    const problems = (error as ExportUnsupported).problems;
    expect([...new Set(problems.map((p) => p.nodeId))].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect((error as ExportUnsupported).status).toBe(422);
  });
});

function planWith(nodes: unknown[]): RunPlan {
  return { planVersion: 1, workflowId: 'w', workflowVersion: 1, triggerId: 't', inputs: {}, nodes: nodes as RunPlan['nodes'], outputNodeIds: [] };
}

function astOf(type: 'output' | 'condition', data: Record<string, string>, field: string): unknown {
  const plan = compileExportPlan(planWith([{ id: 'x', type, incoming: [], data }]));
  return plan.nodes[0]!.compiled[field];
}
