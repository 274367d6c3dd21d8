// The shapes of an agent's tool-calling loop (DESIGN.md §8 "Agents with tools"), shared by the run machine,
// the workflow, the model-call activity and the providers: what the model asked for, what each call gave,
// and the provider-neutral conversation a model call continues. Pure types and small functions only: the
// workflow bundle imports this.
import type { Tool } from './graph';

/** Tokens a model call used (the providers' TokenUsage). */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** A node fails with this code when the model still asks for tools after `maxToolRounds` rounds. */
export const TOOL_ROUNDS_EXCEEDED = 'TOOL_ROUNDS_EXCEEDED';

/** One tool call as the model asked for it. `id` is the provider's, unique within the node's run. */
export interface ToolCallRequest {
  id: string;
  name: string;
  arguments: unknown;
}

/** As the model-call activity hands it back: `argumentError` when the arguments do not fit the tool's schema. */
export interface ModelToolCall extends ToolCallRequest {
  argumentError?: string;
  /** The MCP server whose tool this is (the model call lists MCP servers' tools; the plan does not know them). */
  mcpServerId?: string;
}

/** One call in the node's output: its result, or the error the model was told. */
export interface ToolCallRecord extends ToolCallRequest {
  result?: unknown;
  error?: string;
}

/** What the model said in a round and what its calls gave, in the order a model call replays them. */
export type LoopTurn =
  | { role: 'assistant'; text: string; toolCalls: ToolCallRequest[] }
  | { role: 'tool'; results: { id: string; name: string; content: string; isError: boolean }[] };

/** A tool as a model is told about it. */
export interface ToolSpec {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
}

/** What a tool without `parameters` takes: an object, any properties (the shape both providers accept). */
export const DEFAULT_TOOL_PARAMETERS: Record<string, unknown> = { type: 'object', properties: {} };

/** The tools a model is offered: every named tool (an MCP server's tools are listed by the model call). */
export function toolSpecs(tools: readonly Tool[]): ToolSpec[] {
  return tools.flatMap((tool): ToolSpec[] => {
    if (tool.type === 'mcp') return [];
    const parameters = tool.type === 'http' ? (tool.parameters ?? DEFAULT_TOOL_PARAMETERS) : DEFAULT_TOOL_PARAMETERS;
    return [{ name: tool.name, ...(tool.description !== undefined ? { description: tool.description } : {}), parameters }];
  });
}

/** The tool a call names, if the agent has one by that name (or the MCP server the model call found it on). */
export function toolFor(tools: readonly Tool[], call: Pick<ModelToolCall, 'name' | 'mcpServerId'>): Tool | undefined {
  const named = tools.find((t) => t.type !== 'mcp' && t.name === call.name);
  if (named || call.mcpServerId === undefined) return named;
  return tools.find((t) => t.type === 'mcp' && t.serverId === call.mcpServerId && (!t.tools || t.tools.includes(call.name)));
}

/** Whether a call of `name` waits for a person first (`toolApproval`: "all", or the tools named). */
export function needsApproval(toolApproval: 'none' | 'all' | string[] | undefined, name: string): boolean {
  return toolApproval === 'all' || (Array.isArray(toolApproval) && toolApproval.includes(name));
}

/**
 * The key of a tool call's approval, in the place an approval node's id goes (the inbox, the decision route
 * `/executions/:id/approvals/:key`): the agent's node id, the round and the call, all URL-safe but the node id.
 */
export function toolApprovalKey(nodeId: string, round: number, callId: string): string {
  return `${nodeId}~r${round}~${callId}`;
}

/** What a model is told of a call a person rejected. */
export function rejectedCallError(comment: string | null): string {
  return `a person rejected this call${comment ? `: ${comment}` : ''}`;
}

/** The MCP servers an agent's tools name, with the tools it may use of each (all when absent). */
export function mcpServersOf(tools: readonly Tool[]): { serverId: string; tools?: string[] }[] {
  return tools.flatMap((t) => (t.type === 'mcp' ? [{ serverId: t.serverId, ...(t.tools ? { tools: t.tools } : {}) }] : []));
}

/** A workflow tool as the model call needs it to say what the tool takes (the child's trigger inputs). */
export interface WorkflowToolRef {
  name: string;
  workflowId: string;
  version?: number;
}

/** The workflow tools of an agent. */
export function workflowToolsOf(tools: readonly Tool[]): WorkflowToolRef[] {
  return tools.flatMap((t) => (t.type === 'workflow' ? [{ name: t.name, workflowId: t.workflowId, ...(t.version !== undefined ? { version: t.version } : {}) }] : []));
}

/** What the model reads back for a call: the result as JSON, or `{error}`. */
export function toolResultContent(record: ToolCallRecord): string {
  return record.error !== undefined ? JSON.stringify({ error: record.error }) : JSON.stringify(record.result ?? null);
}

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens, totalTokens: a.totalTokens + b.totalTokens };
}
