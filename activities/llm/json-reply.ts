// Turns a model's text answer into the `json` of an agent turn when the node asked for responseFormat json.
import type { ProviderName } from '../../core/graph';
import { ProviderError } from './types';

/** Appended to the system prompt: OpenAI's JSON mode refuses requests whose messages never say "JSON". */
export const JSON_REPLY_INSTRUCTION = 'Reply with a single JSON object and nothing else.';

// Models without a JSON mode (Claude) often wrap the object in a Markdown fence despite the instruction.
const FENCED = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i;

/**
 * Parses `text` as JSON. `retryable` says whether another attempt could answer differently: true for a
 * sampled model, false for a deterministic provider such as echo.
 */
export function parseJsonReply(text: string, provider: ProviderName, retryable: boolean): unknown {
  const trimmed = text.trim();
  const body = FENCED.exec(trimmed)?.[1] ?? trimmed;
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    const preview = trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed;
    throw new ProviderError({
      provider,
      message: `${provider} was asked for JSON but answered text that is not JSON: ${preview}`,
      retryable,
      code: 'invalid_json',
      cause: err,
    });
  }
}
