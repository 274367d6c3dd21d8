// Keeps a Temporal activity's heartbeat going while an agent turn waits on something that cannot heartbeat
// itself (an HTTP call, a timer), so a worker crash is noticed within the heartbeat timeout, not the turn's.
import type { TurnContext } from './types';

/** Heartbeats at once and then every `intervalMs` until `work` settles; returns what `work` returns. */
export async function heartbeatWhile<T>(ctx: TurnContext, intervalMs: number, work: Promise<T>): Promise<T> {
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), intervalMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
