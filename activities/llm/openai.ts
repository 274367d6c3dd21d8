// Agent turns over OpenAI's Chat Completions API with the official `openai` client; any OpenAI-compatible
// server (Ollama, vLLM, LM Studio, a gateway) works through `baseURL`.
import { APIConnectionError, APIConnectionTimeoutError, APIError, OpenAI } from 'openai';
import type { LoopTurn, ModelToolCall } from '../../core/tool-loop';
import { parseJsonReply } from './json-reply';
import { startRemoteTurn, TURN_HEARTBEAT_INTERVAL_MS } from './remote-turn';
import { describeConnectionFailure, providerErrorFromFailure, type SdkFailure } from './provider-failure';
import { heartbeatWhile } from './turn-heartbeat';
import {
  ProviderError,
  type AgentTurnRequest,
  type AgentTurnResult,
  type LlmProvider,
  type TurnContext,
} from './types';

export interface OpenAiProviderConfig {
  apiKey?: string;
  /** Default https://api.openai.com/v1; for a compatible server, its URL including `/v1`. */
  baseURL?: string;
}

const OFFICIAL_BASE_URL = 'https://api.openai.com/v1';

export function createOpenAiProvider(config: OpenAiProviderConfig): LlmProvider {
  return {
    async complete(req: AgentTurnRequest, ctx: TurnContext): Promise<AgentTurnResult> {
      const baseURL = req.baseURL || config.baseURL || OFFICIAL_BASE_URL;
      const { apiKey, timeoutMs, clientTimeoutMs, attempt, wantsJson, system } = startRemoteTurn(
        { name: 'openai', label: 'OpenAI', keyVariable: 'OPENAI_API_KEY' },
        config.apiKey,
        req,
        ctx,
      );
      // maxRetries 0: Temporal retries the activity, so every attempt shows in the run's history and UI.
      // baseURL is always passed so the client never falls back to reading OPENAI_BASE_URL itself.
      const client = new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: clientTimeoutMs });

      let completion: OpenAI.Chat.Completions.ChatCompletion;
      try {
        completion = await heartbeatWhile(
          ctx,
          TURN_HEARTBEAT_INTERVAL_MS,
          requestCompletion(
            client,
            {
              model: req.model,
              messages: [
                ...(system ? [{ role: 'system' as const, content: system }] : []),
                { role: 'user' as const, content: req.prompt },
                ...(req.messages ?? []).map((m) => ({ role: m.role, content: m.text })),
                ...(req.turns ?? []).flatMap(openAiMessages),
              ],
              ...(req.tools?.length
                ? {
                    tools: req.tools.map((t) => ({
                      type: 'function' as const,
                      function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.parameters },
                    })),
                  }
                : {}),
              ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
              // OpenAI's newer models refuse `max_tokens`; compatible servers mostly know only `max_tokens`.
              ...(req.maxTokens !== undefined
                ? baseURL === OFFICIAL_BASE_URL
                  ? { max_completion_tokens: req.maxTokens }
                  : { max_tokens: req.maxTokens }
                : {}),
              ...(wantsJson ? { response_format: { type: 'json_object' as const } } : {}),
            },
            { signal: attempt.signal },
            ctx.onDelta,
          ),
        );
      } catch (err) {
        throw providerErrorFromFailure(err, classify(err), {
          provider: 'openai',
          label: 'OpenAI',
          apiKey,
          cancellation: ctx.signal,
          ...(attempt.timedOut() ? { timedOutAfterMs: timeoutMs } : {}),
        });
      }

      const choice = completion.choices[0];
      if (!choice) {
        throw new ProviderError({
          provider: 'openai',
          message: `OpenAI API answered without any choice for model ${req.model}`,
          retryable: true,
          code: 'empty_response',
        });
      }
      const text = choice.message.content ?? choice.message.refusal ?? '';
      const toolCalls = (choice.message.tool_calls ?? []).flatMap((c): ModelToolCall[] =>
        c.type === 'function' ? [{ id: c.id, name: c.function.name, ...parsedArguments(c.function.arguments) }] : [],
      );
      const inputTokens = completion.usage?.prompt_tokens ?? 0;
      const outputTokens = completion.usage?.completion_tokens ?? 0;
      return {
        text,
        // A sampled model may well answer valid JSON on the next attempt, hence retryable. A round that asks
        // for tools is not the answer yet.
        ...(wantsJson && !toolCalls.length ? { json: parseJsonReply(text, 'openai', true) } : {}),
        ...(toolCalls.length ? { toolCalls } : {}),
        usage: { inputTokens, outputTokens, totalTokens: completion.usage?.total_tokens ?? inputTokens + outputTokens },
        model: completion.model || req.model,
        provider: 'openai',
      };
    },
  };
}

type CompletionParams = Omit<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming, 'stream'>;

/**
 * One Chat Completions request: without `onDelta` as is; with it streamed (`stream_options.include_usage` for
 * the usage), each content chunk handed over, and the chunks assembled into the completion a non-streaming
 * request would have answered (text, tool calls by index, usage, model).
 */
async function requestCompletion(
  client: OpenAI,
  params: CompletionParams,
  options: { signal: AbortSignal },
  onDelta: ((text: string) => void) | undefined,
): Promise<OpenAI.Chat.Completions.ChatCompletion> {
  if (!onDelta) return client.chat.completions.create(params, options);
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, options);
  let id = '';
  let model = '';
  let created = 0;
  let content = '';
  let refusal = '';
  let finish: OpenAI.Chat.Completions.ChatCompletion.Choice['finish_reason'] = 'stop';
  let usage: OpenAI.Completions.CompletionUsage | undefined;
  const calls: { id: string; name: string; arguments: string }[] = [];
  let sawChoice = false;
  for await (const chunk of stream) {
    id ||= chunk.id;
    model ||= chunk.model;
    created ||= chunk.created;
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    sawChoice = true;
    if (choice.finish_reason) finish = choice.finish_reason;
    const delta = choice.delta;
    if (delta.content) {
      content += delta.content;
      onDelta(delta.content);
    }
    if (delta.refusal) refusal += delta.refusal;
    for (const part of delta.tool_calls ?? []) {
      const call = (calls[part.index] ??= { id: '', name: '', arguments: '' });
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      if (part.function?.arguments) call.arguments += part.function.arguments;
    }
  }
  const toolCalls = calls.filter(Boolean).map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } }));
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: sawChoice
      ? [
          {
            index: 0,
            finish_reason: finish,
            logprobs: null,
            message: {
              role: 'assistant',
              content: content || (refusal ? null : content),
              refusal: refusal || null,
              ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
            },
          },
        ]
      : [],
    ...(usage ? { usage } : {}),
  };
}

/** A round of the loop as Chat Completions messages: the assistant's tool_calls, then one `tool` message per call. */
function openAiMessages(turn: LoopTurn): OpenAI.Chat.Completions.ChatCompletionMessageParam[] {
  if (turn.role === 'assistant') {
    return [
      {
        role: 'assistant',
        content: turn.text || null,
        tool_calls: turn.toolCalls.map((c) => ({
          id: c.id,
          type: 'function' as const,
          function: { name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments ?? {}) },
        })),
      },
    ];
  }
  return turn.results.map((r) => ({ role: 'tool' as const, tool_call_id: r.id, content: r.content }));
}

/** OpenAI sends arguments as a JSON text the model wrote: one that does not parse goes back to the model. */
function parsedArguments(raw: string): Pick<ModelToolCall, 'arguments' | 'argumentError'> {
  try {
    return { arguments: JSON.parse(raw || '{}') as unknown };
  } catch (err) {
    return { arguments: raw, argumentError: `the arguments are not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
}

/** Sorts the openai client's errors into what the provider-neutral mapping needs. */
function classify(err: unknown): SdkFailure {
  // Checked before APIConnectionError, which it extends.
  if (err instanceof APIConnectionTimeoutError) return { kind: 'timeout' };
  if (err instanceof APIConnectionError) return { kind: 'connection', detail: describeConnectionFailure(err) };
  if (err instanceof APIError && typeof err.status === 'number') {
    // The client prefixes the status to the body's message; users want the body's message alone.
    const body = err.error as { message?: unknown } | undefined;
    return {
      kind: 'http',
      status: err.status,
      apiMessage: typeof body?.message === 'string' ? body.message : err.message,
      ...(err.code ? { code: err.code } : {}),
      ...(err.headers ? { headers: err.headers } : {}),
    };
  }
  return { kind: 'unknown' };
}
