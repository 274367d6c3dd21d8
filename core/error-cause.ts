// What went wrong, in words, from an error and its `cause` chain: the Temporal SDK wraps the reason of a
// failure (an activity's error inside an ActivityFailure, the server's answer inside a client error).
// Pure, so workflows can use it too.

/** The message of the deepest Error in the cause chain (what actually failed). */
export function rootCauseMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(err);
}

/** The messages of an error and of its first causes, outermost first, joined by ': '. */
export function causeChainMessage(err: unknown, depth = 4): string {
  const parts: string[] = [];
  for (let e: unknown = err; e && parts.length < depth; e = (e as { cause?: unknown }).cause) {
    parts.push(e instanceof Error ? e.message : String(e));
  }
  return parts.join(': ');
}
