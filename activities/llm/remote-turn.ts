// What every turn over a remote provider's API starts with: the key to use, the attempt's deadline, the
// system prompt (with the JSON instruction when a JSON reply is wanted), and a refusal when already cancelled.
import type { ProviderName } from '../../core/graph';
import { attemptSignal, type AttemptSignal } from './attempt-signal';
import { JSON_REPLY_INSTRUCTION } from './json-reply';
import { missingApiKeyError } from './provider-failure';
import { turnAbortedError, type AgentTurnRequest, type TurnContext } from './types';

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
// Our own deadline (attemptSignal) fires first, so a timeout is recognised the same way in every JavaScript realm;
// the client's is a backstop.
const CLIENT_TIMEOUT_SLACK_MS = 1000;

export const TURN_HEARTBEAT_INTERVAL_MS = 1000;

export interface RemoteProviderIdentity {
  name: ProviderName;
  /** How messages name the provider ("OpenAI"). */
  label: string;
  /** The environment variable of its default key, named when no key is configured. */
  keyVariable: string;
}

export interface RemoteTurn {
  apiKey: string;
  timeoutMs: number;
  /** The SDK client's own timeout: a backstop just after ours. */
  clientTimeoutMs: number;
  attempt: AttemptSignal;
  wantsJson: boolean;
  system: string | undefined;
}

export function startRemoteTurn(provider: RemoteProviderIdentity, configuredKey: string | undefined, req: AgentTurnRequest, ctx: TurnContext): RemoteTurn {
  const apiKey = req.apiKey || configuredKey;
  const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!apiKey) throw missingApiKeyError(provider.name, provider.label, provider.keyVariable);
  if (ctx.signal.aborted) throw turnAbortedError(provider.name, ctx.signal);
  const wantsJson = req.responseFormat === 'json';
  return {
    apiKey,
    timeoutMs,
    clientTimeoutMs: timeoutMs + CLIENT_TIMEOUT_SLACK_MS,
    attempt: attemptSignal(ctx.signal, timeoutMs),
    wantsJson,
    system: wantsJson ? [req.system, JSON_REPLY_INSTRUCTION].filter(Boolean).join('\n\n') : req.system,
  };
}
