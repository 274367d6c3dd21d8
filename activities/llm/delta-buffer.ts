// Coalesces a model's streamed text chunks so a fast model does not flood Redis: what arrived is sent at most
// every `intervalMs`, or at once when `maxChars` have piled up; `close()` sends the rest and waits for it.
export interface DeltaBufferOptions {
  intervalMs?: number;
  maxChars?: number;
}

export interface DeltaBuffer {
  push(text: string): void;
  /** Sends what is left and resolves once every send has settled. */
  close(): Promise<void>;
}

export const DELTA_INTERVAL_MS = 50;
export const DELTA_MAX_CHARS = 200;

export function createDeltaBuffer(send: (text: string) => Promise<void>, options: DeltaBufferOptions = {}): DeltaBuffer {
  const intervalMs = options.intervalMs ?? DELTA_INTERVAL_MS;
  const maxChars = options.maxChars ?? DELTA_MAX_CHARS;
  let pending = '';
  let timer: NodeJS.Timeout | undefined;
  // One chain: chunks reach Redis in the order the model wrote them.
  let sent: Promise<void> = Promise.resolve();

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    const text = pending;
    pending = '';
    sent = sent.then(() => send(text)).catch(() => undefined);
  };

  return {
    push(text) {
      if (!text) return;
      pending += text;
      if (pending.length >= maxChars) flush();
      else timer ??= setTimeout(flush, intervalMs);
    },
    async close() {
      flush();
      await sent;
    },
  };
}
