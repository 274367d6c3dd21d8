// The canvas document (DESIGN.md §2): the zod schemas of the graph and of each node type's `data`.
// These schemas are the single source of truth for the API, the validator, the compiler and the web app.
import { z } from 'zod';

export const NODE_TYPES = ['trigger', 'agent', 'transform', 'condition', 'approval', 'output', 'subflow', 'conversation', 'map'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** Out handles per node type; a type absent here has one unnamed handle (edges carry no sourceHandle). */
export const NODE_OUT_HANDLES: Partial<Record<NodeType, readonly string[]>> = {
  condition: ['true', 'false'],
  approval: ['approved', 'rejected'],
};

/** What a node that can fail does when it finally fails (DESIGN.md §8; core/node-failure.ts decides it). */
export const ON_ERROR_MODES = ['fail', 'continue', 'branch'] as const;
export type OnErrorMode = (typeof ON_ERROR_MODES)[number];
/** The `onError` field a fallible node type's schema carries (absent: `fail`, the behaviour before it existed). */
export const onErrorSchema = z.enum(ON_ERROR_MODES).optional();
/** The out handle a node with `onError: "branch"` takes when it failed; its other edges are then skipped. */
export const ERROR_HANDLE = 'error';

/**
 * The out handles of one node, `null` standing for the unnamed one: its type's named handles, or the unnamed
 * handle, plus `error` when the node's `onError` is `branch`. The validator and the editor both ask this.
 */
export function nodeOutHandles(type: string, data: Readonly<Record<string, unknown>> | undefined): readonly (string | null)[] {
  const named = NODE_OUT_HANDLES[type as NodeType];
  if (named) return named;
  return data?.['onError'] === 'branch' ? [null, ERROR_HANDLE] : [null];
}

export const positionSchema = z.object({ x: z.number(), y: z.number() });

export const inputSpecSchema = z.strictObject({
  type: z.enum(['string', 'number', 'boolean', 'object']),
  required: z.boolean().optional(),
  default: z.unknown().optional(),
  description: z.string().max(2000).optional(),
});
export type InputSpec = z.infer<typeof inputSpecSchema>;

const INPUT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export const triggerDataSchema = z.strictObject({
  inputs: z
    .record(z.string().regex(INPUT_NAME, 'input names are identifiers: letters, digits, _'), inputSpecSchema)
    .default({}),
});

export const retryPolicySchema = z.strictObject({
  maximumAttempts: z.number().int().min(1).max(100),
  initialIntervalSeconds: z.number().positive().max(3600).optional(),
  backoffCoefficient: z.number().min(1).max(10).optional(),
});
export type NodeRetryPolicy = z.infer<typeof retryPolicySchema>;

export const PROVIDERS = ['echo', 'openai', 'anthropic'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** A tool's name as the model sees it: what OpenAI and Anthropic both accept for a function name. */
export const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const toolName = z.string().regex(TOOL_NAME, 'tool names are 1–64 letters, digits, _ or -');
/** A JSON Schema object; core/tool-schema.ts compiles it (zod only checks it is an object). */
const jsonSchemaObject = z.record(z.string(), z.unknown());

export const HTTP_TOOL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** An HTTP request the model may make: url, headers and body are templates over `{inputs, nodes, args}`. */
export const httpToolSchema = z.strictObject({
  type: z.literal('http'),
  name: toolName,
  description: z.string().max(4000).optional(),
  method: z.enum(HTTP_TOOL_METHODS),
  url: z.string().min(1).max(8000),
  headers: z.record(z.string().min(1).max(200), z.string().max(8000)).optional(),
  body: z.string().max(200_000).optional(),
  parameters: jsonSchemaObject.optional(),
  credentialId: z.string().min(1).max(100).optional(),
  /** The header the credential's secret goes in, bare; absent: `Authorization: Bearer <secret>`. */
  credentialHeader: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'a header name').optional(),
});

/** The tools of a tenant-registered MCP server: all of them, or those named. */
export const mcpToolSchema = z.strictObject({
  type: z.literal('mcp'),
  serverId: z.string().min(1).max(100),
  tools: z.array(z.string().min(1).max(200)).max(200).optional(),
});

/** Another saved workflow, run as a child workflow: its trigger inputs are the parameters, its outputs the result. */
export const workflowToolSchema = z.strictObject({
  type: z.literal('workflow'),
  name: toolName,
  description: z.string().max(4000).optional(),
  workflowId: z.string().min(1).max(100),
  version: z.number().int().positive().optional(),
});

export const toolSchema = z.discriminatedUnion('type', [httpToolSchema, mcpToolSchema, workflowToolSchema]);
export type Tool = z.infer<typeof toolSchema>;
export type HttpTool = z.infer<typeof httpToolSchema>;
export type McpTool = z.infer<typeof mcpToolSchema>;
export type WorkflowTool = z.infer<typeof workflowToolSchema>;

export const DEFAULT_MAX_TOOL_ROUNDS = 8;
export const MAX_TOOLS_PER_AGENT = 64;

export const agentDataSchema = z.strictObject({
  provider: z.enum(PROVIDERS),
  model: z.string().min(1).max(200),
  credentialId: z.string().min(1).max(100).optional(),
  system: z.string().max(100_000).optional(),
  prompt: z.string().min(1).max(200_000),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().min(1).max(200_000).optional(),
  responseFormat: z.enum(['text', 'json']).optional(),
  timeoutSeconds: z.number().positive().max(3600).optional(),
  retry: retryPolicySchema.optional(),
  delayMs: z.number().int().min(0).max(3_600_000).optional(),
  /** What the model may call; an agent without tools makes one model call, as before issue 11. */
  tools: z.array(toolSchema).max(MAX_TOOLS_PER_AGENT).optional(),
  /** How many times the model may ask for tools (DEFAULT_MAX_TOOL_ROUNDS when absent). */
  maxToolRounds: z.number().int().min(1).max(50).optional(),
  /** Tool names whose calls wait for a human decision, all of them, or none (the default). */
  toolApproval: z.union([z.enum(['none', 'all']), z.array(toolName).max(MAX_TOOLS_PER_AGENT)]).optional(),
  onError: onErrorSchema,
});

/** A conversation participant's name: how the others and the transcript call it. */
export const PARTICIPANT_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/;
export const MAX_CONVERSATION_PARTICIPANTS = 20;
export const SPEAKER_SELECTIONS = ['round_robin', 'auto'] as const;

/** One voice of a conversation: its own model, credential and system prompt (a template like an agent's). */
export const conversationParticipantSchema = z.strictObject({
  name: z.string().regex(PARTICIPANT_NAME, 'participant names are 1–64 letters, digits, spaces, _ . or -, starting with a letter or digit'),
  provider: z.enum(PROVIDERS),
  model: z.string().min(1).max(200),
  system: z.string().max(100_000).optional(),
  credentialId: z.string().min(1).max(100).optional(),
});

/** AutoGen-style group chat (core/conversation.ts): each turn one participant speaks, until maxRounds or terminateOn. */
export const conversationDataSchema = z.strictObject({
  participants: z.array(conversationParticipantSchema).min(2, 'a conversation needs at least two participants').max(MAX_CONVERSATION_PARTICIPANTS),
  topic: z.string().min(1).max(200_000),
  maxRounds: z.number().int().min(1).max(50).default(10),
  speakerSelection: z.enum(SPEAKER_SELECTIONS).default('round_robin'),
  /** The conversation ends after a turn whose text contains this. */
  terminateOn: z.string().min(1).max(1000).optional(),
  /** Each turn's attempts (and the speaker selection's), as an agent's. */
  retry: retryPolicySchema.optional(),
  timeoutSeconds: z.number().positive().max(3600).optional(),
  onError: onErrorSchema,
});

export const transformDataSchema = z.union([
  z.strictObject({ template: z.string().max(200_000) }),
  z.strictObject({ expression: z.string().min(1).max(20_000) }),
]);

export const conditionDataSchema = z.strictObject({ expression: z.string().min(1).max(20_000) });

export const approvalFormFieldSchema = z.strictObject({
  type: z.enum(['string', 'number', 'boolean']),
  label: z.string().max(200).optional(),
  required: z.boolean().optional(),
  default: z.unknown().optional(),
  enum: z.array(z.union([z.string(), z.number()])).max(100).optional(),
  maxLength: z.number().int().positive().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});

export const approvalDataSchema = z.strictObject({
  title: z.string().min(1).max(500),
  instructions: z.string().max(20_000).optional(),
  assigneeRole: z.enum(['owner', 'admin', 'editor']).optional(),
  timeoutSeconds: z.number().int().positive().max(365 * 24 * 3600).optional(),
  onTimeout: z.enum(['approve', 'reject', 'fail']).optional(),
  reminderSeconds: z.number().int().positive().optional(),
  quorum: z.number().int().min(1).max(50).optional(),
  form: z.record(z.string().regex(INPUT_NAME), approvalFormFieldSchema).optional(),
});

export const outputDataSchema = z.strictObject({ value: z.string().max(200_000) });

/** Another saved workflow of the tenant, run as a child execution: its inputs are templates, its outputs the node's. */
export const subflowDataSchema = z.strictObject({
  workflowId: z.string().min(1).max(100),
  /** The saved version to run; the workflow's latest when absent. */
  version: z.number().int().positive().optional(),
  inputs: z.record(z.string().regex(INPUT_NAME, 'input names are identifiers: letters, digits, _'), z.string().max(200_000)).default({}),
  onError: onErrorSchema,
});

/** The most item runs a map node keeps in flight (DESIGN.md §8 `map`). */
export const MAP_MAX_CONCURRENCY = 100;
export const MAP_ITEM_FAILURE_MODES = ['fail', 'skip'] as const;

/** One child run of a saved workflow per item of a list (core/map-run.ts, workflows/map-run.ts). */
export const mapDataSchema = z.strictObject({
  /** JSONata over the run's scope; it must give an array. */
  items: z.string().min(1).max(200_000),
  workflowId: z.string().min(1).max(100),
  /** The saved version each item runs; the workflow's latest when absent. */
  version: z.number().int().positive().optional(),
  /** JSONata over `{item, index, inputs}` giving an item run's inputs (an object); the item itself when absent. */
  itemInput: z.string().min(1).max(200_000).default('item'),
  concurrency: z.number().int().min(1).max(MAP_MAX_CONCURRENCY).default(5),
  onItemFailure: z.enum(MAP_ITEM_FAILURE_MODES).default('fail'),
  onError: onErrorSchema,
});

export const NODE_DATA_SCHEMAS = {
  trigger: triggerDataSchema,
  agent: agentDataSchema,
  transform: transformDataSchema,
  condition: conditionDataSchema,
  approval: approvalDataSchema,
  output: outputDataSchema,
  subflow: subflowDataSchema,
  conversation: conversationDataSchema,
  map: mapDataSchema,
} as const satisfies Record<NodeType, z.ZodType>;

/** Whether a node type has the `onError` field: every fallible type's schema carries `onErrorSchema`, nothing else does. */
export function canHandleErrors(type: string): boolean {
  const schema = (NODE_DATA_SCHEMAS as Partial<Record<string, z.ZodType>>)[type];
  return schema instanceof z.ZodObject && 'onError' in schema.shape;
}

export type TriggerData = z.infer<typeof triggerDataSchema>;
export type AgentData = z.infer<typeof agentDataSchema>;
export type TransformData = z.infer<typeof transformDataSchema>;
export type ConditionData = z.infer<typeof conditionDataSchema>;
export type ApprovalData = z.infer<typeof approvalDataSchema>;
export type OutputData = z.infer<typeof outputDataSchema>;
export type SubflowData = z.infer<typeof subflowDataSchema>;
export type ConversationData = z.infer<typeof conversationDataSchema>;
export type MapData = z.infer<typeof mapDataSchema>;
export type ConversationParticipant = z.infer<typeof conversationParticipantSchema>;

/** A node as drawn. `type` and `data` are loose here; the validator checks them per type. */
export const canvasNodeSchema = z.object({
  id: z.string(),
  type: z.string(),
  position: positionSchema.optional(),
  data: z.record(z.string(), z.unknown()).default({}),
});

export const canvasEdgeSchema = z.object({
  id: z.string(),
  source: z.string(),
  target: z.string(),
  sourceHandle: z.string().nullish(),
  targetHandle: z.string().nullish(),
});

export const MAX_NODES = 2000;
export const MAX_EDGES = 10_000;

export const canvasGraphSchema = z.object({
  nodes: z.array(canvasNodeSchema).max(MAX_NODES),
  edges: z.array(canvasEdgeSchema).max(MAX_EDGES),
});

export type CanvasNode = z.infer<typeof canvasNodeSchema>;
export type CanvasEdge = z.infer<typeof canvasEdgeSchema>;
export type CanvasGraph = z.infer<typeof canvasGraphSchema>;
