// The contract between an agent-turn activity and the LLM providers: one request in, one result or one
// ProviderError out. A ProviderError says whether Temporal should retry, so the activity never guesses.
import type { ProviderName } from '../../core/graph';
import type { ConversationMessage } from '../../core/conversation';
import type { LoopTurn, ModelToolCall, ToolSpec } from '../../core/tool-loop';

export interface AgentTurnRequest {
  provider: ProviderName;
  model: string;
  system?: string;
  prompt: string;
  temperature?: number;
  maxTokens?: number;
  responseFormat?: 'text' | 'json';
  /** Bound on one HTTP attempt; the activity's start-to-close timeout bounds the whole turn. */
  timeoutMs?: number;
  /** Echo only: how long to pretend to think. */
  delayMs?: number;
  /** From a tenant credential; overrides the provider's configured key. */
  apiKey?: string;
  /** From a tenant credential; overrides the provider's configured server (an OpenAI-compatible gateway). */
  baseURL?: string;
  /** The tools the model may call, through the provider's native tool API. */
  tools?: ToolSpec[];
  /** Earlier rounds of a tool-calling loop: after the prompt, what the model asked for and what it got. */
  turns?: LoopTurn[];
  /** Messages after the prompt, in order (a conversation's transcript as one speaker sees it, core/conversation.ts). */
  messages?: ConversationMessage[];
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export interface AgentTurnResult {
  text: string;
  json?: unknown;
  usage: TokenUsage;
  /** The model that answered, as the provider names it (may be a dated snapshot of the requested one). */
  model: string;
  provider: ProviderName;
  /** The tools the model asked for (none: this is its answer). Arguments as the model gave them. */
  toolCalls?: ModelToolCall[];
}

export interface TurnContext {
  /** Aborted when Temporal cancels the activity (or the worker shuts down). */
  signal: AbortSignal;
  heartbeat: (details?: unknown) => void;
  /**
   * Given: the provider streams its answer and hands each text chunk here as it arrives (the result still
   * carries the whole text). Absent: one non-streaming request, as before.
   */
  onDelta?: (text: string) => void;
}

export interface LlmProvider {
  complete(req: AgentTurnRequest, ctx: TurnContext): Promise<AgentTurnResult>;
}

export interface ProviderErrorOptions {
  provider: ProviderName;
  message: string;
  retryable: boolean;
  status?: number;
  code?: string;
  /** What the provider asked for in Retry-After, so the activity can pass it on as Temporal's next retry delay. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class ProviderError extends Error {
  readonly provider: ProviderName;
  readonly status?: number;
  readonly retryable: boolean;
  readonly code?: string;
  readonly retryAfterMs?: number;

  constructor(options: ProviderErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
    this.provider = options.provider;
    this.retryable = options.retryable;
    if (options.status !== undefined) this.status = options.status;
    if (options.code !== undefined) this.code = options.code;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

const ABORTED = 'aborted';

/**
 * The error a provider rejects with when `ctx.signal` aborts. Its `cause` is the signal's reason (Temporal's
 * CancelledFailure inside an activity), which the activity should rethrow so Temporal records a cancellation.
 */
export function turnAbortedError(provider: ProviderName, signal: AbortSignal): ProviderError {
  const error = new ProviderError({
    provider,
    message: `${provider} turn aborted before the model answered`,
    retryable: false,
    code: ABORTED,
    cause: signal.reason,
  });
  // The conventional name, so code that checks `name === 'AbortError'` (fetch, undici, timers) agrees.
  error.name = 'AbortError';
  return error;
}

/** True for a turn stopped by its AbortSignal, as opposed to a provider failure. */
export function isAbortError(err: unknown): boolean {
  if (err instanceof ProviderError) return err.code === ABORTED;
  return err instanceof Error && err.name === 'AbortError';
}
