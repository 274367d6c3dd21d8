// The abort signal of one HTTP attempt: the turn's cancellation or the attempt's own deadline, whichever comes
// first, told apart afterwards, because a missed deadline is worth retrying and a cancellation is not.
export interface AttemptSignal {
  signal: AbortSignal;
  /** True when the deadline, not the cancellation, stopped the attempt. */
  timedOut: () => boolean;
}

export function attemptSignal(cancellation: AbortSignal, timeoutMs: number): AttemptSignal {
  const deadline = AbortSignal.timeout(timeoutMs);
  return {
    signal: AbortSignal.any([cancellation, deadline]),
    timedOut: () => deadline.aborted && !cancellation.aborted,
  };
}
