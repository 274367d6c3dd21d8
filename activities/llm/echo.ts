// The echo provider answers with the prompt itself and needs no network, so canvases and durability tests run
// without a model; `delayMs` keeps a turn in flight (heartbeating) long enough to crash a worker under it.
import { parseJsonReply } from './json-reply';
import { heartbeatWhile } from './turn-heartbeat';
import { turnAbortedError, type AgentTurnRequest, type AgentTurnResult, type LlmProvider, type TurnContext } from './types';

// Well under any sensible heartbeat timeout, and frequent enough that a timer drifting late still beats every 500 ms.
const HEARTBEAT_INTERVAL_MS = 250;

export function createEchoProvider(): LlmProvider {
  return {
    async complete(req: AgentTurnRequest, ctx: TurnContext): Promise<AgentTurnResult> {
      if (ctx.signal.aborted) throw turnAbortedError('echo', ctx.signal);
      if (req.delayMs !== undefined && req.delayMs > 0) {
        await heartbeatWhile(ctx, HEARTBEAT_INTERVAL_MS, sleep(req.delayMs, ctx.signal));
      }
      const text = req.prompt;
      const inputTokens = countWords(req.system ?? '') + countWords(req.prompt);
      const outputTokens = countWords(text);
      return {
        text,
        ...(req.responseFormat === 'json' ? { json: parseJsonReply(text, 'echo', false) } : {}),
        usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
        model: req.model,
        provider: 'echo',
      };
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(turnAbortedError('echo', signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Words stand in for tokens: close enough for usage figures, and deterministic. */
function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}
