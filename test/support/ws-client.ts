// A WebSocket client for tests: collects every message and waits for the ones a test expects.
import WebSocket from 'ws';

export interface TestSocket {
  messages: any[];
  send(message: unknown): void;
  /** Resolves with the first matching message, received or to come; the deadline (a minute by default) is for none. */
  waitFor(predicate: (m: any) => boolean, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
  /** Resolves when the server (or close()) ends the socket, with the close code and reason. */
  ended: Promise<{ code: number; reason: string }>;
}

export async function openSocket(wsUrl: string, token: string): Promise<TestSocket> {
  const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
  const messages: any[] = [];
  const waiters: { predicate: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    messages.push(m);
    for (const w of [...waiters]) {
      if (w.predicate(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  const ended = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return {
    messages,
    ended,
    send: (m) => ws.send(JSON.stringify(m)),
    waitFor(predicate, timeoutMs = 60_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching ws message in ${timeoutMs} ms; got ${JSON.stringify(messages.slice(-5))}`)), timeoutMs);
        waiters.push({ predicate, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      });
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      const closed = new Promise((r) => ws.once('close', r));
      ws.close();
      await closed;
    },
  };
}
