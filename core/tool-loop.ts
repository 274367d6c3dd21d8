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

/** The tool a call names, if the agent has one by that name. */
export function toolNamed(tools: readonly Tool[], name: string): Tool | undefined {
  return tools.find((t) => t.type !== 'mcp' && t.name === name);
}

/** What the model reads back for a call: the result as JSON, or `{error}`. */
export function toolResultContent(record: ToolCallRecord): string {
  return record.error !== undefined ? JSON.stringify({ error: record.error }) : JSON.stringify(record.result ?? null);
}

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens, totalTokens: a.totalTokens + b.totalTokens };
}
