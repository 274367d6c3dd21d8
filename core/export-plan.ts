// What a run plan becomes in an exported Python package (docs/export.md): each template and expression
// pre-parsed here (Handlebars.parse, jsonata().ast()) and checked against the subset the package's
// evaluators implement, so the package needs no parser and a canvas it cannot run exactly is refused.
import Handlebars from 'handlebars';
import jsonata from 'jsonata';
import { AppError } from './errors';
import { exportSchemaProblems } from './export-tool-schema';
import type { Tool } from './graph';
import type { PlanNode, RunPlan } from './plan';

export interface ExportProblem {
  nodeId: string;
  field: string;
  message: string;
  /** The tool refused, for a problem of one of an agent's tools (its name, or `mcp:<serverId>`). */
  tool?: string;
}

/** Node types the package's runner has a method for; any other (conversation, subflow, map, …) is refused. */
const EXPORTED_NODE_TYPES: ReadonlySet<string> = new Set(['trigger', 'agent', 'transform', 'condition', 'approval', 'output', 'conversation']);

/** The canvas uses something the exported package cannot reproduce exactly; the API answers 422 with the list. */
export class ExportUnsupported extends AppError {
  readonly problems: ExportProblem[];

  constructor(problems: ExportProblem[]) {
    const first = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('EXPORT_UNSUPPORTED', 422, `This workflow cannot be exported: ${first ? `${first.nodeId}.${first.field}: ${first.message}` : 'unknown problem'}${more}`, { problems });
    this.problems = problems;
  }
}

export type ExportPlanNode = PlanNode & { compiled: Record<string, unknown> };

export interface ExportPlan extends Omit<RunPlan, 'nodes'> {
  exportFormat: 1;
  nodes: ExportPlanNode[];
}

/** JSONata functions of the exported evaluator, with the argument counts it accepts. */
export const EXPORT_FUNCTIONS: Readonly<Record<string, readonly [number, number]>> = {
  string: [1, 1],
  number: [1, 1],
  boolean: [1, 1],
  not: [1, 1],
  exists: [1, 1],
  length: [1, 1],
  uppercase: [1, 1],
  lowercase: [1, 1],
  trim: [1, 1],
  contains: [2, 2],
  substring: [2, 3],
  join: [1, 2],
  count: [1, 1],
  sum: [1, 1],
  abs: [1, 1],
  floor: [1, 1],
  ceil: [1, 1],
};

const BINARY_OPERATORS = new Set(['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', 'and', 'or', '&', 'in']);
const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with']);
const AST_KEYS_DROPPED = new Set(['loc', 'position', 'strip', 'openStrip', 'closeStrip', 'inverseStrip', 'original']);

/** Compiles every template and expression of `plan`; throws ExportUnsupported listing every problem at once. */
export function compileExportPlan(plan: RunPlan): ExportPlan {
  const problems: ExportProblem[] = [];
  const nodes = plan.nodes.map((node) => ({ ...node, compiled: compileNode(node, problems) }) as ExportPlanNode);
  if (problems.length) throw new ExportUnsupported(problems);
  return { ...plan, exportFormat: 1, nodes };
}

function compileNode(node: PlanNode, problems: ExportProblem[]): Record<string, unknown> {
  const compiled: Record<string, unknown> = {};
  const template = (field: string, text: string) => {
    const ast = parseTemplate(text, (message) => problems.push({ nodeId: node.id, field, message }));
    if (ast) compiled[field] = ast;
  };
  const expression = (field: string, text: string) => {
    const ast = parseExpression(text, (message) => problems.push({ nodeId: node.id, field, message }));
    if (ast) compiled[field] = ast;
  };
  /** A text only shown (an approval's title): compiled when it is in the subset, else shown as written. */
  const shownTemplate = (field: string, text: string) => {
    const ast = parseTemplate(text, () => undefined);
    if (ast) compiled[field] = ast;
  };
  const type: string = node.type;
  if (!EXPORTED_NODE_TYPES.has(type)) {
    problems.push({ nodeId: node.id, field: 'type', message: `${type} nodes run on the platform only: the exported runner has no ${type} node` });
    return compiled;
  }
  // onError continue/branch export as they are: templates/package/machine.py node_failed mirrors the machine (parity-tested).
  switch (node.type) {
    case 'agent': {
      template('prompt', node.data.prompt);
      if (node.data.system !== undefined) template('system', node.data.system);
      if (node.data.tools?.length) {
        const tools = compileTools(node.id, node.data.tools, problems);
        if (tools) compiled.tools = tools;
      }
      const approval = node.data.toolApproval;
      if (approval === 'all' || (Array.isArray(approval) && approval.length)) {
        problems.push({ nodeId: node.id, field: 'toolApproval', message: 'tool calls that wait for a person run on the platform only (the package has no inbox); set toolApproval to none to export' });
      }
      if (node.data.credentialId) {
        problems.push({ nodeId: node.id, field: 'credentialId', message: 'tenant credentials stay on the platform: the package reads OPENAI_API_KEY / ANTHROPIC_API_KEY instead; remove the credential to export' });
      }
      break;
    }
    case 'conversation':
      // The texts core/conversation.ts conversationEvaluation asks for, under the same field names.
      template('topic', node.data.topic);
      node.data.participants.forEach((participant, index) => {
        if (participant.system !== undefined) template(`system.${index}`, participant.system);
        if (participant.credentialId) {
          problems.push({ nodeId: node.id, field: `participants.${index}.credentialId`, message: `tenant credentials stay on the platform: participant ${participant.name} would read OPENAI_API_KEY / ANTHROPIC_API_KEY in the package; remove the credential to export` });
        }
      });
      break;
    case 'transform':
      if ('template' in node.data) template('template', node.data.template);
      else expression('expression', node.data.expression);
      break;
    case 'condition':
      expression('expression', node.data.expression);
      break;
    case 'output':
      template('value', node.data.value);
      break;
    case 'approval':
      shownTemplate('title', node.data.title);
      if (node.data.instructions !== undefined) shownTemplate('instructions', node.data.instructions);
      break;
    case 'trigger':
      break;
  }
  return compiled;
}

/**
 * The url, header and body templates of an agent's http tools, by tool name; mcp and workflow tools are
 * refused (the package has no MCP client and no other workflows), and so is a `parameters` schema the
 * package's validator (templates/package/tool_schema.py) does not cover.
 */
function compileTools(nodeId: string, tools: readonly Tool[], problems: ExportProblem[]): Record<string, unknown> | null {
  const compiled: Record<string, unknown> = {};
  for (const tool of tools) {
    if (tool.type === 'mcp') {
      problems.push({ nodeId, field: 'tools', tool: `mcp:${tool.serverId}`, message: `MCP tools (server ${tool.serverId}) run on the platform only: the exported package has no MCP client` });
      continue;
    }
    if (tool.type === 'workflow') {
      problems.push({ nodeId, field: 'tools', tool: tool.name, message: `workflow tools (workflow ${tool.workflowId}) run on the platform only: the exported package holds one workflow` });
      continue;
    }
    const field = `tools.${tool.name}`;
    const report = (what: string) => (message: string) => problems.push({ nodeId, field: `${field}.${what}`, tool: tool.name, message });
    for (const message of exportSchemaProblems(tool.parameters)) problems.push({ nodeId, field: `${field}.parameters`, tool: tool.name, message });
    const url = parseTemplate(tool.url, report('url'));
    const headers: Record<string, unknown> = {};
    for (const [name, text] of Object.entries(tool.headers ?? {})) headers[name] = parseTemplate(text, report(`headers.${name}`));
    const body = tool.body !== undefined ? parseTemplate(tool.body, report('body')) : undefined;
    compiled[tool.name] = { url, headers, ...(body !== undefined ? { body } : {}) };
  }
  return Object.keys(compiled).length ? compiled : null;
}

type Report = (message: string) => void;

function parseTemplate(text: string, report: Report): unknown {
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(text);
  } catch (err) {
    report(`template syntax: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
  let ok = true;
  const fail = (message: string) => {
    ok = false;
    report(message);
  };
  checkProgram(ast, fail);
  return ok ? stripAst(ast) : null;
}

function checkProgram(program: hbs.AST.Program, fail: Report): void {
  if (program.blockParams?.length) fail('block parameters (as |x|) are not supported in exported templates');
  for (const statement of program.body) {
    switch (statement.type) {
      case 'ContentStatement':
      case 'CommentStatement':
        break;
      case 'MustacheStatement':
        checkMustache(statement as hbs.AST.MustacheStatement, fail);
        break;
      case 'BlockStatement':
        checkBlock(statement as hbs.AST.BlockStatement, fail);
        break;
      default:
        fail(`${statement.type} (partials, decorators) is not supported in exported templates`);
    }
  }
}

function helperName(path: hbs.AST.PathExpression | hbs.AST.Literal): string | null {
  if (path.type !== 'PathExpression') return null;
  const p = path as hbs.AST.PathExpression;
  return !p.data && p.depth === 0 && p.parts.length === 1 ? (p.parts[0] ?? null) : null;
}

function checkParams(params: hbs.AST.Expression[], hash: hbs.AST.Hash | undefined, fail: Report): void {
  for (const param of [...params, ...(hash?.pairs ?? []).map((pair) => pair.value)]) {
    if (param.type === 'SubExpression') fail('subexpressions (helper calls in parentheses) are not supported in exported templates');
    if (param.type === 'PathExpression') checkPath(param as hbs.AST.PathExpression, fail);
  }
}

function checkPath(path: hbs.AST.PathExpression, fail: Report): void {
  if (path.data && !['root', 'index', 'key', 'first', 'last'].includes(path.parts[0] ?? '')) fail(`@${path.parts[0] ?? ''} is not supported in exported templates`);
  if (path.data && path.depth > 0) fail('@../ data paths are not supported in exported templates');
}

function checkMustache(node: hbs.AST.MustacheStatement, fail: Report): void {
  if (node.path.type !== 'PathExpression') {
    fail(`a literal as a mustache ({{${String((node.path as hbs.AST.Literal & { original?: unknown }).original)}}}) is not supported in exported templates`);
    return;
  }
  checkPath(node.path as hbs.AST.PathExpression, fail);
  checkParams(node.params, node.hash, fail);
  const name = helperName(node.path);
  if (name === 'json' || name === 'lookup') return;
  if (name && BLOCK_HELPERS.has(name)) fail(`{{${name}}} outside a block is not supported in exported templates`);
  else if (node.params.length || node.hash?.pairs.length) fail(`helper ${(node.path as hbs.AST.PathExpression).original} is not supported in exported templates (json and lookup are)`);
}

function checkBlock(node: hbs.AST.BlockStatement, fail: Report): void {
  const name = helperName(node.path);
  if (!name || !BLOCK_HELPERS.has(name)) {
    fail(`block {{#${(node.path as hbs.AST.PathExpression).original ?? '?'}}} is not supported in exported templates (#if, #unless, #each, #with are)`);
    return;
  }
  checkParams(node.params, node.hash, fail);
  if (node.params.length !== 1) fail(`{{#${name}}} takes exactly one argument`);
  if (node.program) checkProgram(node.program, fail);
  if (node.inverse) checkProgram(node.inverse, fail);
}

function parseExpression(text: string, report: Report): unknown {
  let ast: unknown;
  try {
    ast = jsonata(text).ast();
  } catch (err) {
    const message = err !== null && typeof err === 'object' && 'message' in err ? String((err as { message: unknown }).message) : String(err);
    report(`expression syntax: ${message}`);
    return null;
  }
  const unsupported: string[] = [];
  checkExpression(ast as JsonataNode, unsupported);
  for (const message of new Set(unsupported)) report(message);
  return unsupported.length ? null : stripAst(ast);
}

interface JsonataNode {
  type: string;
  value?: unknown;
  steps?: JsonataNode[];
  lhs?: JsonataNode | [JsonataNode, JsonataNode][];
  rhs?: JsonataNode;
  expression?: JsonataNode;
  expressions?: JsonataNode[];
  condition?: JsonataNode;
  then?: JsonataNode;
  else?: JsonataNode;
  procedure?: JsonataNode;
  arguments?: JsonataNode[];
  [key: string]: unknown;
}

// Keys a plain name step may carry; any other (stages, predicate, group, focus, tuple, keepArray, ...) is
// a feature the exported evaluator does not implement.
const PLAIN_KEYS = new Set(['type', 'value', 'position']);
const PATH_KEYS = new Set(['type', 'steps', 'position']);

function checkExpression(node: JsonataNode, out: string[]): void {
  const extra = (allowed: Set<string>) => Object.keys(node).filter((key) => !allowed.has(key));
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value':
      return;
    case 'name':
      if (extra(PLAIN_KEYS).length) out.push(`path features (${extra(PLAIN_KEYS).join(', ')}: filters, indexes, sorting, grouping) are not supported in exported expressions`);
      return;
    case 'variable':
      if (node.value !== '' && node.value !== '$') out.push(`variable $${String(node.value)} is not supported in exported expressions (only $ and $$)`);
      if (extra(PLAIN_KEYS).length) out.push('path features on variables are not supported in exported expressions');
      return;
    case 'path':
      if (extra(PATH_KEYS).length) out.push(`path features (${extra(PATH_KEYS).join(', ')}) are not supported in exported expressions`);
      for (const step of node.steps ?? []) {
        if (step.type !== 'name' && step.type !== 'variable') out.push(`a ${step.type} step in a path is not supported in exported expressions`);
        else checkExpression(step, out);
      }
      return;
    case 'binary':
      if (!BINARY_OPERATORS.has(String(node.value))) out.push(`operator ${String(node.value)} is not supported in exported expressions`);
      checkExpression(node.lhs as JsonataNode, out);
      if (node.rhs) checkExpression(node.rhs, out);
      return;
    case 'unary':
      if (node.value === '-') checkExpression(node.expression as JsonataNode, out);
      else if (node.value === '[') (node.expressions ?? []).forEach((e) => checkExpression(e, out));
      else if (node.value === '{') (node.lhs as [JsonataNode, JsonataNode][]).forEach(([k, v]) => {
        checkExpression(k, out);
        checkExpression(v, out);
      });
      else out.push(`operator ${String(node.value)} is not supported in exported expressions`);
      return;
    case 'condition':
      checkExpression(node.condition as JsonataNode, out);
      checkExpression(node.then as JsonataNode, out);
      if (node.else) checkExpression(node.else, out);
      return;
    case 'block':
      (node.expressions ?? []).forEach((e) => checkExpression(e, out));
      return;
    case 'function': {
      const procedure = node.procedure;
      const name = procedure?.type === 'variable' ? String(procedure.value) : null;
      const arity = name !== null ? EXPORT_FUNCTIONS[name] : undefined;
      const count = node.arguments?.length ?? 0;
      if (!name || !arity) out.push(`function ${name ? `$${name}` : '(computed)'} is not supported in exported expressions (supported: ${Object.keys(EXPORT_FUNCTIONS).map((f) => `$${f}`).join(', ')})`);
      else if (count < arity[0] || count > arity[1]) out.push(`$${name} with ${count} arguments is not supported in exported expressions`);
      if (node.value !== '(') out.push('partial application is not supported in exported expressions');
      (node.arguments ?? []).forEach((e) => checkExpression(e, out));
      return;
    }
    default:
      out.push(`${node.type} expressions (regex, lambda, binding, sorting, transform) are not supported in exported expressions`);
  }
}

/** A JSON copy of a syntax tree without source positions, whitespace-control flags and originals. */
function stripAst(ast: unknown): unknown {
  return JSON.parse(JSON.stringify(ast, (key, value: unknown) => (AST_KEYS_DROPPED.has(key) ? undefined : value)));
}
