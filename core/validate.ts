// The canvas validator (DESIGN.md §2), used by the API and the browser: it takes anything at all, never throws,
// and reports every problem at once, each pinned to the node or edge the user has to fix.
import type { z } from 'zod';

import { canHandleErrors, ERROR_HANDLE, MAX_EDGES, MAX_NODES, NODE_DATA_SCHEMAS, NODE_OUT_HANDLES, NODE_TYPES, nodeOutHandles, transformDataSchema } from './graph';
import type { AgentData, SubflowData, ConversationData, NodeType, TriggerData } from './graph';
import { checkExpressionSyntax } from './expression';
import { coerceInput } from './inputs';
import { checkTemplateSyntax } from './template';
import { compileToolParameters, namedTool } from './tool-schema';

export const GRAPH_PROBLEM_CODES = [
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
  'SELF_LOOP',
  'CYCLE',
  'TRIGGER_COUNT',
  'NO_OUTPUT',
  'UNREACHABLE_NODE',
  'TEMPLATE_SYNTAX',
  'EXPRESSION_SYNTAX',
] as const;
export type GraphProblemCode = (typeof GRAPH_PROBLEM_CODES)[number];

export interface GraphProblem {
  code: GraphProblemCode;
  message: string;
  nodeId?: string;
  edgeId?: string;
}

export interface GraphValidation {
  valid: boolean;
  errors: GraphProblem[];
}

/** Node data fields that are Handlebars templates, per type. */
export const TEMPLATE_FIELDS: Partial<Record<NodeType, readonly string[]>> = {
  agent: ['system', 'prompt'],
  transform: ['template'],
  approval: ['title', 'instructions'],
  output: ['value'],
  conversation: ['topic'],
};

/** Node data fields that are JSONata expressions, per type. */
export const EXPRESSION_FIELDS: Partial<Record<NodeType, readonly string[]>> = {
  condition: ['expression'],
  transform: ['expression'],
  map: ['items', 'itemInput'],
};

// The longest string any node schema accepts: a longer one is already reported by the schema, and parsing it
// would only cost time.
const MAX_CHECKED_LENGTH = 200_000;

/** A node or edge that passed the shape checks: what the graph analysis runs on. */
interface SoundNode {
  id: string;
  type: string;
  /** Its out handles (core/graph.ts nodeOutHandles): an `onError: "branch"` node has `error` besides the unnamed one. */
  handles: readonly (string | null)[];
}
interface SoundEdge {
  id: string | undefined;
  source: string;
  target: string;
}

export function validateGraph(input: unknown): GraphValidation {
  const errors: GraphProblem[] = [];
  try {
    collectProblems(input, errors);
  } catch (err) {
    // Nothing above is expected to throw; this keeps the promise to callers if something exotic (a Proxy, a getter) does.
    errors.push({ code: 'INVALID_DOCUMENT', message: `the document could not be validated: ${describeError(err)}` });
  }
  return { valid: errors.length === 0, errors };
}

function collectProblems(input: unknown, errors: GraphProblem[]): void {
  if (!isRecord(input)) {
    errors.push({ code: 'INVALID_DOCUMENT', message: 'the graph must be an object with "nodes" and "edges" arrays' });
    return;
  }
  const rawNodes = input['nodes'];
  const rawEdges = input['edges'];
  if (!Array.isArray(rawNodes)) errors.push({ code: 'INVALID_DOCUMENT', message: '"nodes" must be an array' });
  if (!Array.isArray(rawEdges)) errors.push({ code: 'INVALID_DOCUMENT', message: '"edges" must be an array' });
  const nodes: unknown[] = Array.isArray(rawNodes) ? rawNodes : [];
  const edges: unknown[] = Array.isArray(rawEdges) ? rawEdges : [];
  // Beyond the limits we stop: such a document is refused anyway, and checking it would cost unbounded work.
  let tooBig = false;
  if (nodes.length > MAX_NODES) {
    errors.push({ code: 'INVALID_DOCUMENT', message: `a graph has at most ${MAX_NODES} nodes (this one has ${nodes.length})` });
    tooBig = true;
  }
  if (edges.length > MAX_EDGES) {
    errors.push({ code: 'INVALID_DOCUMENT', message: `a graph has at most ${MAX_EDGES} edges (this one has ${edges.length})` });
    tooBig = true;
  }
  if (tooBig) return;

  const byId = new Map<string, SoundNode>();
  const soundNodes: SoundNode[] = [];
  nodes.forEach((raw, index) => {
    const node = checkNode(raw, index, errors);
    if (!node) return;
    if (byId.has(node.id)) {
      errors.push({ code: 'DUPLICATE_NODE_ID', message: `node id "${node.id}" is used more than once (nodes[${index}])`, nodeId: node.id });
      return;
    }
    byId.set(node.id, node);
    soundNodes.push(node);
  });

  const edgeIds = new Set<string>();
  const soundEdges: SoundEdge[] = [];
  edges.forEach((raw, index) => {
    const edge = checkEdge(raw, index, byId, edgeIds, errors);
    if (edge) soundEdges.push(edge);
  });

  // Whole-graph checks only make sense on what the document does have: no "no trigger" for nodes that are not
  // a list, no "unreachable" when the edges are not a list.
  if (!Array.isArray(rawNodes)) return;
  checkTriggerAndOutputs(soundNodes, errors);
  if (!Array.isArray(rawEdges)) return;
  checkCycles(soundNodes, soundEdges, errors);
  checkReachability(soundNodes, soundEdges, errors);
}

/** Checks one node; returns its id and type when it has a usable id, so the graph checks can include it. */
function checkNode(raw: unknown, index: number, errors: GraphProblem[]): SoundNode | undefined {
  if (!isRecord(raw)) {
    errors.push({ code: 'INVALID_DOCUMENT', message: `nodes[${index}] must be an object` });
    return undefined;
  }
  const rawId = raw['id'];
  const id = typeof rawId === 'string' && rawId !== '' ? rawId : undefined;
  if (id === undefined) {
    errors.push({ code: 'MISSING_NODE_ID', message: `nodes[${index}] has no id (a non-empty string)` });
  }
  const label = id === undefined ? `nodes[${index}]` : `node "${id}"`;
  const at = id === undefined ? {} : { nodeId: id };

  const rawType = raw['type'];
  const type = typeof rawType === 'string' && isNodeType(rawType) ? rawType : undefined;
  if (type === undefined) {
    const shown = typeof rawType === 'string' ? `"${truncate(rawType)}"` : 'missing';
    errors.push({
      code: 'UNKNOWN_NODE_TYPE',
      message: `${label} has an unknown type (${shown}); known types: ${NODE_TYPES.join(', ')}`,
      ...at,
    });
  }

  const position = raw['position'];
  if (position !== undefined && !(isRecord(position) && isFiniteNumber(position['x']) && isFiniteNumber(position['y']))) {
    errors.push({ code: 'INVALID_DOCUMENT', message: `${label}: position must be {x: number, y: number}`, ...at });
  }

  const data = raw['data'] === undefined ? {} : raw['data'];
  if (!isRecord(data)) {
    errors.push({ code: 'INVALID_NODE_CONFIG', message: `${label}: data must be an object`, ...at });
  } else if (type !== undefined) {
    checkNodeData(type, data, label, at, errors);
    checkSyntax(type, data, label, at, errors);
  }

  const handles = nodeOutHandles(typeof rawType === 'string' ? rawType : '', isRecord(data) ? data : undefined);
  return id === undefined ? undefined : { id, type: typeof rawType === 'string' ? rawType : '', handles };
}

/** A subflow's input mappings are templates (the child checks the values against its trigger when it starts). */
function checkSubflowInputs(data: SubflowData, label: string, at: { nodeId?: string }, errors: GraphProblem[]): void {
  for (const [name, text] of Object.entries(data.inputs)) {
    const problem = checkTemplateSyntax(text);
    if (problem) errors.push({ code: 'TEMPLATE_SYNTAX', message: `${label}: data.inputs.${name} is not a valid template: ${problem}`, ...at });
  }
}

function checkNodeData(
  type: NodeType,
  data: Record<string, unknown>,
  label: string,
  at: { nodeId?: string },
  errors: GraphProblem[],
): void {
  const schema = dataSchemaFor(type, data);
  if (schema === undefined) {
    errors.push({ code: 'INVALID_NODE_CONFIG', message: `${label}: a transform has either "template" or "expression" (exactly one)`, ...at });
    return;
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      errors.push({ code: 'INVALID_NODE_CONFIG', message: `${label}: ${formatPath(['data', ...issue.path])}: ${issue.message}`, ...at });
    }
    return;
  }
  if (type === 'trigger') checkInputDefaults(parsed.data as TriggerData, label, at, errors);
  if (type === 'agent') checkAgentTools(parsed.data as AgentData, label, at, errors);
  if (type === 'subflow') checkSubflowInputs(parsed.data as SubflowData, label, at, errors);
  if (type === 'conversation') checkConversation(parsed.data as ConversationData, label, at, errors);
}

/** Participants the transcript tells apart (names unique, in any case) and system prompts that are templates. */
function checkConversation(data: ConversationData, label: string, at: { nodeId?: string }, errors: GraphProblem[]): void {
  const seen = new Set<string>();
  data.participants.forEach((p, index) => {
    const where = `${label}: data.participants[${index}]`;
    if (seen.has(p.name.toLowerCase())) errors.push({ code: 'INVALID_NODE_CONFIG', message: `${where}: the participant name "${p.name}" is used more than once`, ...at });
    seen.add(p.name.toLowerCase());
    const problem = p.system !== undefined ? checkTemplateSyntax(p.system) : null;
    if (problem) errors.push({ code: 'TEMPLATE_SYNTAX', message: `${where} (${p.name}): system is not a valid template: ${problem}`, ...at });
  });
}

/** Tool names the model tells apart, parameter schemas that compile, approvals that name a tool. */
function checkAgentTools(data: AgentData, label: string, at: { nodeId?: string }, errors: GraphProblem[]): void {
  const tools = data.tools ?? [];
  const seen = new Set<string>();
  tools.forEach((tool, index) => {
    const name = namedTool(tool);
    const where = `${label}: data.tools[${index}]`;
    if (name !== null) {
      if (seen.has(name)) errors.push({ code: 'INVALID_NODE_CONFIG', message: `${where}: the tool name "${name}" is used more than once`, ...at });
      seen.add(name);
    }
    if (tool.type === 'http') {
      const compiled = compileToolParameters(tool.parameters);
      if (compiled.ok === false) errors.push({ code: 'INVALID_NODE_CONFIG', message: `${where} (${tool.name}): ${compiled.message}`, ...at });
      for (const [field, text] of [['url', tool.url], ['body', tool.body], ...Object.entries(tool.headers ?? {}).map(([h, v]) => [`headers.${h}`, v])] as const) {
        if (text === undefined) continue;
        const problem = checkTemplateSyntax(text);
        if (problem) errors.push({ code: 'TEMPLATE_SYNTAX', message: `${where} (${tool.name}): ${field}: ${problem}`, ...at });
      }
    }
  });
  const approval = data.toolApproval;
  if (Array.isArray(approval) && !tools.some((t) => t.type === 'mcp')) {
    for (const name of approval) {
      if (!seen.has(name)) errors.push({ code: 'INVALID_NODE_CONFIG', message: `${label}: data.toolApproval names "${name}", which is none of the agent's tools`, ...at });
    }
  }
}

/** The schema to check `data` with. A transform is a union whose error would only say "Invalid input": pick its branch. */
function dataSchemaFor(type: NodeType, data: Record<string, unknown>): z.ZodType | undefined {
  if (type !== 'transform') return NODE_DATA_SCHEMAS[type];
  const hasTemplate = Object.hasOwn(data, 'template');
  const hasExpression = Object.hasOwn(data, 'expression');
  if (hasTemplate === hasExpression) return undefined;
  const [templateBranch, expressionBranch] = transformDataSchema.options;
  return hasTemplate ? templateBranch : expressionBranch;
}

/** A default that does not fit its declared type would only fail later, when a run starts without that input. */
function checkInputDefaults(
  data: TriggerData,
  label: string,
  at: { nodeId?: string },
  errors: GraphProblem[],
): void {
  for (const [name, spec] of Object.entries(data.inputs)) {
    if (spec.default === undefined || spec.default === null) continue;
    const coerced = coerceInput(spec.type, spec.default);
    if (!coerced.ok) {
      errors.push({ code: 'INVALID_NODE_CONFIG', message: `${label}: data.inputs.${name}.default ${coerced.message}`, ...at });
    }
  }
}

function checkSyntax(type: NodeType, data: Record<string, unknown>, label: string, at: { nodeId?: string }, errors: GraphProblem[]): void {
  for (const field of TEMPLATE_FIELDS[type] ?? []) {
    const value = data[field];
    if (typeof value !== 'string' || value.length > MAX_CHECKED_LENGTH) continue;
    const problem = checkTemplateSyntax(value);
    if (problem !== null) {
      errors.push({ code: 'TEMPLATE_SYNTAX', message: `${label}: data.${field} is not a valid template: ${problem}`, ...at });
    }
  }
  for (const field of EXPRESSION_FIELDS[type] ?? []) {
    const value = data[field];
    if (typeof value !== 'string' || value === '' || value.length > MAX_CHECKED_LENGTH) continue;
    const problem = checkExpressionSyntax(value);
    if (problem !== null) {
      errors.push({ code: 'EXPRESSION_SYNTAX', message: `${label}: data.${field} is not a valid expression: ${problem}`, ...at });
    }
  }
}

/** Checks one edge; returns it when both ends exist, so the cycle and reachability checks can follow it. */
function checkEdge(
  raw: unknown,
  index: number,
  byId: ReadonlyMap<string, SoundNode>,
  edgeIds: Set<string>,
  errors: GraphProblem[],
): SoundEdge | undefined {
  if (!isRecord(raw)) {
    errors.push({ code: 'INVALID_DOCUMENT', message: `edges[${index}] must be an object` });
    return undefined;
  }
  const rawId = raw['id'];
  const id = typeof rawId === 'string' && rawId !== '' ? rawId : undefined;
  if (id === undefined) {
    errors.push({ code: 'MISSING_EDGE_ID', message: `edges[${index}] has no id (a non-empty string)` });
  } else if (edgeIds.has(id)) {
    errors.push({ code: 'DUPLICATE_EDGE_ID', message: `edge id "${id}" is used more than once (edges[${index}])`, edgeId: id });
  } else {
    edgeIds.add(id);
  }
  const label = id === undefined ? `edges[${index}]` : `edge "${id}"`;
  const at = id === undefined ? {} : { edgeId: id };

  const source = endpoint(raw['source'], byId);
  const target = endpoint(raw['target'], byId);
  for (const [end, found, value] of [
    ['source', source, raw['source']],
    ['target', target, raw['target']],
  ] as const) {
    if (found) continue;
    const why = typeof value === 'string' && value !== '' ? `node "${truncate(value)}" does not exist` : 'it is missing';
    errors.push({ code: 'DANGLING_EDGE', message: `${label}: its ${end} is dangling (${why})`, ...at });
  }

  const sourceHandle = raw['sourceHandle'];
  if (sourceHandle !== undefined && sourceHandle !== null && typeof sourceHandle !== 'string') {
    errors.push({ code: 'INVALID_SOURCE_HANDLE', message: `${label}: sourceHandle must be a string or null`, ...at });
  } else if (source && isNodeType(source.type)) {
    checkSourceHandle(source, sourceHandle ?? null, label, at, errors);
  }
  const targetHandle = raw['targetHandle'];
  if (targetHandle !== undefined && targetHandle !== null && typeof targetHandle !== 'string') {
    errors.push({ code: 'INVALID_DOCUMENT', message: `${label}: targetHandle must be a string or null`, ...at });
  }

  if (target?.type === 'trigger') {
    errors.push({ code: 'EDGE_INTO_TRIGGER', message: `${label}: nothing may lead into the trigger "${target.id}"`, ...at });
  }
  if (!source || !target) return undefined;
  return { id, source: source.id, target: target.id };
}

function checkSourceHandle(source: SoundNode, handle: string | null, label: string, at: { edgeId?: string }, errors: GraphProblem[]): void {
  const handles = NODE_OUT_HANDLES[source.type as NodeType];
  if (handles === undefined) {
    if (source.handles.includes(handle)) return;
    const branches = source.handles.includes(ERROR_HANDLE);
    const message =
      handle === ERROR_HANDLE && canHandleErrors(source.type)
        ? `${source.type} node "${source.id}" has an "error" handle only with onError "branch" (set its onError to "branch", or connect the edge to its normal handle)`
        : branches
          ? `an edge from ${source.type} node "${source.id}" leaves its normal handle (naming none) or "${ERROR_HANDLE}" (got "${truncate(String(handle))}")`
          : `a ${source.type} node has a single out handle, so the edge names none (got "${truncate(String(handle))}")`;
    errors.push({ code: 'INVALID_SOURCE_HANDLE', message: `${label}: ${message}`, ...at });
    return;
  }
  if (handle === null || !handles.includes(handle)) {
    const got = handle === null ? 'none' : `"${truncate(handle)}"`;
    errors.push({
      code: 'INVALID_SOURCE_HANDLE',
      message: `${label}: an edge from ${source.type} node "${source.id}" must name its handle, one of ${handles.join(', ')} (got ${got})`,
      ...at,
    });
  }
}

function checkTriggerAndOutputs(nodes: readonly SoundNode[], errors: GraphProblem[]): void {
  const triggers = nodes.filter((node) => node.type === 'trigger');
  if (triggers.length === 0) {
    errors.push({ code: 'TRIGGER_COUNT', message: 'the graph needs exactly one trigger node (it has none)' });
  } else if (triggers.length > 1) {
    errors.push({
      code: 'TRIGGER_COUNT',
      message: `the graph needs exactly one trigger node (it has ${triggers.length}: ${triggers.map((node) => node.id).join(', ')})`,
      nodeId: triggers[1]?.id,
    });
  }
  if (!nodes.some((node) => node.type === 'output')) {
    errors.push({ code: 'NO_OUTPUT', message: 'the graph needs at least one output node' });
  }
}

/** Self-loops one by one; every other cycle once, as its strongly connected component (Tarjan, iterative). */
function checkCycles(nodes: readonly SoundNode[], edges: readonly SoundEdge[], errors: GraphProblem[]): void {
  const successors = new Map<string, string[]>(nodes.map((node) => [node.id, []]));
  for (const edge of edges) {
    if (edge.source === edge.target) {
      errors.push({
        code: 'SELF_LOOP',
        message: `node "${edge.source}" has an edge to itself`,
        nodeId: edge.source,
        ...(edge.id === undefined ? {} : { edgeId: edge.id }),
      });
      continue;
    }
    successors.get(edge.source)?.push(edge.target);
  }
  const order = new Map(nodes.map((node, index) => [node.id, index]));
  for (const component of stronglyConnectedComponents(nodes, successors)) {
    if (component.length < 2) continue;
    // Document order, so the message is stable and names nodes the way the user sees them listed.
    component.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    errors.push({ code: 'CYCLE', message: `these nodes form a cycle: ${component.join(', ')}`, nodeId: component[0] });
  }
}

function stronglyConnectedComponents(nodes: readonly SoundNode[], successors: ReadonlyMap<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of nodes) {
    if (index.has(root.id)) continue;
    // Explicit work stack of (node, next successor position): 2000 nodes deep must not overflow the call stack.
    const work: { id: string; next: number }[] = [{ id: root.id, next: 0 }];
    index.set(root.id, counter);
    lowLink.set(root.id, counter);
    counter += 1;
    stack.push(root.id);
    onStack.add(root.id);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const next = successors.get(frame.id) ?? [];
      if (frame.next < next.length) {
        const succ = next[frame.next]!;
        frame.next += 1;
        if (!index.has(succ)) {
          index.set(succ, counter);
          lowLink.set(succ, counter);
          counter += 1;
          stack.push(succ);
          onStack.add(succ);
          work.push({ id: succ, next: 0 });
        } else if (onStack.has(succ)) {
          lowLink.set(frame.id, Math.min(lowLink.get(frame.id)!, index.get(succ)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) lowLink.set(parent.id, Math.min(lowLink.get(parent.id)!, lowLink.get(frame.id)!));
      if (lowLink.get(frame.id) === index.get(frame.id)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop();
          if (member === undefined) break;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.id);
        components.push(component);
      }
    }
  }
  return components;
}

function checkReachability(nodes: readonly SoundNode[], edges: readonly SoundEdge[], errors: GraphProblem[]): void {
  const triggers = nodes.filter((node) => node.type === 'trigger');
  // Without a trigger every node would be "unreachable": TRIGGER_COUNT already says what to fix.
  if (triggers.length === 0) return;
  const successors = new Map<string, string[]>();
  for (const edge of edges) {
    const list = successors.get(edge.source);
    if (list) list.push(edge.target);
    else successors.set(edge.source, [edge.target]);
  }
  const reached = new Set(triggers.map((node) => node.id));
  const queue = [...reached];
  for (let at = 0; at < queue.length; at += 1) {
    for (const next of successors.get(queue[at]!) ?? []) {
      if (reached.has(next)) continue;
      reached.add(next);
      queue.push(next);
    }
  }
  for (const node of nodes) {
    if (!reached.has(node.id)) {
      errors.push({ code: 'UNREACHABLE_NODE', message: `node "${node.id}" cannot be reached from the trigger`, nodeId: node.id });
    }
  }
}

function endpoint(value: unknown, byId: ReadonlyMap<string, SoundNode>): SoundNode | undefined {
  return typeof value === 'string' ? byId.get(value) : undefined;
}

function isNodeType(value: string): value is NodeType {
  return (NODE_TYPES as readonly string[]).includes(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text === '' ? String(key) : `${text}.${String(key)}`;
  }, '');
}

/** Ids and types come from users: keep messages readable whatever their length. */
function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
