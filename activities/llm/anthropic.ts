// Agent turns over Anthropic's Messages API with the official `@anthropic-ai/sdk` client.
import { Anthropic, APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk';
import type { LoopTurn, ModelToolCall } from '../../core/tool-loop';
import { parseJsonReply } from './json-reply';
import { startRemoteTurn, TURN_HEARTBEAT_INTERVAL_MS } from './remote-turn';
import { describeConnectionFailure, providerErrorFromFailure, type SdkFailure } from './provider-failure';
import { heartbeatWhile } from './turn-heartbeat';
import {
  type AgentTurnRequest,
  type AgentTurnResult,
  type LlmProvider,
  type TurnContext,
} from './types';

export interface AnthropicProviderConfig {
  apiKey?: string;
  /** Default https://api.anthropic.com, without `/v1` (the client adds `/v1/messages`). */
  baseURL?: string;
}

const OFFICIAL_BASE_URL = 'https://api.anthropic.com';
/** The Messages API requires max_tokens; the node's maxTokens overrides it. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 1024;

export function createAnthropicProvider(config: AnthropicProviderConfig): LlmProvider {
  return {
    async complete(req: AgentTurnRequest, ctx: TurnContext): Promise<AgentTurnResult> {
      const baseURL = req.baseURL || config.baseURL || OFFICIAL_BASE_URL;
      const { apiKey, timeoutMs, clientTimeoutMs, attempt, wantsJson, system } = startRemoteTurn(
        { name: 'anthropic', label: 'Anthropic', keyVariable: 'ANTHROPIC_API_KEY' },
        config.apiKey,
        req,
        ctx,
      );
      // maxRetries 0: Temporal retries the activity, so every attempt shows in the run's history and UI.
      // apiKey and baseURL are always passed so the client never reads ANTHROPIC_* variables itself.
      // Passing a timeout also keeps the client from refusing large max_tokens without streaming. Claude has no
      // free-form JSON mode; it follows the instruction startRemoteTurn adds to the system prompt.
      const client = new Anthropic({ apiKey, baseURL, maxRetries: 0, timeout: clientTimeoutMs });

      let message: Anthropic.Messages.Message;
      try {
        message = await heartbeatWhile(
          ctx,
          TURN_HEARTBEAT_INTERVAL_MS,
          requestMessage(
            client,
            {
              model: req.model,
              max_tokens: req.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
              messages: [
                { role: 'user', content: req.prompt },
                ...(req.messages ?? []).map((m) => ({ role: m.role, content: m.text })),
                ...(req.turns ?? []).map(anthropicMessage),
              ],
              ...(req.tools?.length
                ? {
                    tools: req.tools.map((t) => ({
                      name: t.name,
                      ...(t.description !== undefined ? { description: t.description } : {}),
                      input_schema: t.parameters as Anthropic.Messages.Tool.InputSchema,
                    })),
                  }
                : {}),
              ...(system ? { system } : {}),
              ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
            },
            { signal: attempt.signal },
            ctx.onDelta,
          ),
        );
      } catch (err) {
        throw providerErrorFromFailure(err, classify(err), {
          provider: 'anthropic',
          label: 'Anthropic',
          apiKey,
          cancellation: ctx.signal,
          ...(attempt.timedOut() ? { timedOutAfterMs: timeoutMs } : {}),
        });
      }

      const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
      const toolCalls = message.content.flatMap((block): ModelToolCall[] => (block.type === 'tool_use' ? [{ id: block.id, name: block.name, arguments: block.input }] : []));
      // Cached prompt tokens are billed input too, but Anthropic reports them apart from input_tokens.
      const inputTokens =
        message.usage.input_tokens +
        (message.usage.cache_creation_input_tokens ?? 0) +
        (message.usage.cache_read_input_tokens ?? 0);
      const outputTokens = message.usage.output_tokens;
      return {
        text,
        // A sampled model may well answer valid JSON on the next attempt, hence retryable.
        ...(wantsJson && !toolCalls.length ? { json: parseJsonReply(text, 'anthropic', true) } : {}),
        ...(toolCalls.length ? { toolCalls } : {}),
        usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
        model: message.model || req.model,
        provider: 'anthropic',
      };
    },
  };
}

/**
 * One Messages request: without `onDelta` as is; with it streamed (`stream: true`), each text_delta handed over,
 * and the events assembled into the message a non-streaming request would have answered (text and tool_use
 * blocks in order, a tool's input from its input_json_delta parts, usage from message_start and message_delta).
 */
async function requestMessage(
  client: Anthropic,
  params: Anthropic.Messages.MessageCreateParamsNonStreaming,
  options: { signal: AbortSignal },
  onDelta: ((text: string) => void) | undefined,
): Promise<Anthropic.Messages.Message> {
  if (!onDelta) return client.messages.create(params, options);
  const stream = await client.messages.create({ ...params, stream: true }, options);
  let message: Anthropic.Messages.Message | undefined;
  const blocks: ({ type: 'text'; text: string } | { type: 'tool_use'; block: Anthropic.Messages.ToolUseBlock; json: string })[] = [];
  for await (const event of stream) {
    if (event.type === 'message_start') message = event.message;
    else if (event.type === 'content_block_start') {
      const block = event.content_block;
      if (block.type === 'text') blocks[event.index] = { type: 'text', text: block.text };
      else if (block.type === 'tool_use') blocks[event.index] = { type: 'tool_use', block, json: '' };
    } else if (event.type === 'content_block_delta') {
      const block = blocks[event.index];
      if (event.delta.type === 'text_delta' && block?.type === 'text') {
        block.text += event.delta.text;
        onDelta(event.delta.text);
      } else if (event.delta.type === 'input_json_delta' && block?.type === 'tool_use') block.json += event.delta.partial_json;
    } else if (event.type === 'message_delta' && message) {
      message = { ...message, stop_reason: event.delta.stop_reason, usage: { ...message.usage, output_tokens: event.usage.output_tokens } };
    }
  }
  if (!message) throw new Error('Anthropic API stream ended without a message');
  const content = blocks.filter(Boolean).map((b): Anthropic.Messages.ContentBlock =>
    b.type === 'text'
      ? { type: 'text', text: b.text, citations: null }
      : { ...b.block, input: b.json ? (JSON.parse(b.json) as unknown) : b.block.input },
  );
  return { ...message, content };
}

/** A round of the loop as Messages turns: the assistant's tool_use blocks, then the user's tool_result blocks. */
function anthropicMessage(turn: LoopTurn): Anthropic.Messages.MessageParam {
  if (turn.role === 'assistant') {
    return {
      role: 'assistant',
      content: [
        ...(turn.text ? [{ type: 'text' as const, text: turn.text }] : []),
        ...turn.toolCalls.map((c) => ({ type: 'tool_use' as const, id: c.id, name: c.name, input: c.arguments ?? {} })),
      ],
    };
  }
  return {
    role: 'user',
    content: turn.results.map((r) => ({ type: 'tool_result' as const, tool_use_id: r.id, content: r.content, ...(r.isError ? { is_error: true } : {}) })),
  };
}

/** Sorts the Anthropic client's errors into what the provider-neutral mapping needs. */
function classify(err: unknown): SdkFailure {
  // Checked before APIConnectionError, which it extends.
  if (err instanceof APIConnectionTimeoutError) return { kind: 'timeout' };
  if (err instanceof APIConnectionError) return { kind: 'connection', detail: describeConnectionFailure(err) };
  if (err instanceof APIError && typeof err.status === 'number') {
    // The client's own message is the whole JSON body; apiMessage is the body's explanation alone.
    const code = err.errorCode ?? err.type ?? undefined;
    return {
      kind: 'http',
      status: err.status,
      apiMessage: err.apiMessage ?? err.message,
      ...(code ? { code } : {}),
      ...(err.headers ? { headers: err.headers } : {}),
    };
  }
  return { kind: 'unknown' };
}
