// How a failed call to an LLM API becomes a ProviderError: which failures Temporal should retry, how long the
// provider asked us to wait, and keeping API keys out of messages that end up in workflow history and the UI.
import type { ProviderName } from '../../core/graph';
import { ProviderError, turnAbortedError } from './types';

/** Rate limits, timeouts, conflicts and server faults pass; a bad request, key or model will fail the same way again. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

// OpenAI answers 429 both for "slow down" and for "your account has no credit"; only the first heals by waiting.
const PERMANENT_CODES = new Set(['insufficient_quota', 'billing_hard_limit_reached']);

/** What a failed SDK call was, in terms both SDKs share; each provider module classifies its own SDK's errors. */
export type SdkFailure =
  | { kind: 'timeout' }
  | { kind: 'connection'; detail: string }
  /** `apiMessage` is the provider's own explanation, kept verbatim so users can act on it. */
  | { kind: 'http'; status: number; apiMessage: string; code?: string; headers?: Headers }
  | { kind: 'unknown' };

interface FailedAttempt {
  provider: ProviderName;
  /** Shown to users, e.g. "OpenAI". */
  label: string;
  apiKey: string;
  cancellation: AbortSignal;
  /** Set when the attempt's own deadline stopped it (see attemptSignal). */
  timedOutAfterMs?: number;
}

/** The error a provider rejects with; anything neither SDK nor network (a bug of ours) is passed on untouched. */
export function providerErrorFromFailure(err: unknown, failure: SdkFailure, attempt: FailedAttempt): unknown {
  const { provider, label, apiKey } = attempt;
  // Whatever the SDK made of it, a cancelled turn is a cancellation, not a failure to retry.
  if (attempt.cancellation.aborted) return turnAbortedError(provider, attempt.cancellation);
  if (attempt.timedOutAfterMs !== undefined || failure.kind === 'timeout') {
    const within = attempt.timedOutAfterMs !== undefined ? ` within ${attempt.timedOutAfterMs} ms` : '';
    return new ProviderError({ provider, message: `${label} API did not answer${within}`, retryable: true, code: 'timeout', cause: err });
  }
  if (failure.kind === 'connection') {
    return new ProviderError({
      provider,
      message: withoutSecret(`Could not reach the ${label} API: ${failure.detail}`, apiKey),
      retryable: true,
      code: 'connection_error',
      cause: err,
    });
  }
  if (failure.kind === 'unknown') return err;
  const retryable = isRetryableStatus(failure.status) && !(failure.code !== undefined && PERMANENT_CODES.has(failure.code));
  const retryAfter = retryAfterMs(failure.headers);
  return new ProviderError({
    provider,
    message: withoutSecret(`${label} API answered ${failure.status}: ${failure.apiMessage}`, apiKey),
    retryable,
    status: failure.status,
    ...(failure.code !== undefined ? { code: failure.code } : {}),
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
    cause: err,
  });
}

export function missingApiKeyError(provider: ProviderName, label: string, envName: string): ProviderError {
  return new ProviderError({
    provider,
    message:
      `No ${label} API key: set ${envName} for the worker, or choose a credential on the agent node ` +
      `(Credentials page). Servers that need no key, such as Ollama, accept any non-empty value.`,
    retryable: false,
    code: 'missing_api_key',
  });
}

/** Some providers echo part of a rejected key back; the full key must never reach history or the UI. */
function withoutSecret(message: string, secret: string): string {
  return secret.length >= 4 ? message.split(secret).join('[redacted]') : message;
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Both SDKs say only "Connection error."; the cause says whether it was refused, reset or a DNS failure. */
export function describeConnectionFailure(err: Error): string {
  const cause = err.cause;
  const inner = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause : cause) : undefined;
  return inner && inner.message !== err.message ? `${err.message} (${inner.message})` : err.message;
}
