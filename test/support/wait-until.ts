// Waiting for a state nobody announces (a process appears, an event is stored, a call arrives): poll until
// the check holds. The deadline only matters when something is broken, so it is generous, and the error
// names what never came true: a busy machine makes a test slower, never wrong.

export interface WaitUntilOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/** Resolves with the first truthy value `check` returns; throws once `timeoutMs` passes without one. */
export async function waitUntil<T>(what: string, check: () => T | Promise<T>, { timeoutMs = 60_000, intervalMs = 100 }: WaitUntilOptions = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) throw new Error(`${what}: not so after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
