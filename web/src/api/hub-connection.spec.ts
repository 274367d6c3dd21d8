// The hub connection's recovery: a hello the hub could not serve ("try again") is sent again on the same socket.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { HubConnection } from './hub-connection';

/** A socket that records what the client sends and lets the test play the hub. */
class ScriptedSocket {
  static readonly OPEN = 1;
  static last: ScriptedSocket | null = null;
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;

  constructor(readonly url: string) {
    ScriptedSocket.last = this;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.readyState = 3;
    this.onclose?.();
  }

  open(): void {
    this.readyState = ScriptedSocket.OPEN;
    this.onopen?.();
  }

  hubSays(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

describe('HubConnection', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal('WebSocket', ScriptedSocket);
    ScriptedSocket.last = null;
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  async function connected(): Promise<{ socket: ScriptedSocket; messages: unknown[]; connection: HubConnection }> {
    const messages: unknown[] = [];
    const connection = new HubConnection({
      token: () => Promise.resolve('t'),
      hello: () => ({ type: 'subscribe', executionId: 'e', afterSeq: 0 }),
      onMessage: (m) => messages.push(m),
    });
    await vi.waitFor(() => expect(ScriptedSocket.last).not.toBeNull());
    const socket = ScriptedSocket.last as unknown as ScriptedSocket;
    socket.open();
    return { socket, messages, connection };
  }

  test('a SUBSCRIBE_FAILED from the hub sends the hello again after a backoff', async () => {
    const { socket, messages, connection } = await connected();
    expect(socket.sent).toHaveLength(1);
    socket.hubSays({ type: 'error', code: 'SUBSCRIBE_FAILED', message: 'could not subscribe; try again', executionId: 'e' });
    expect(messages).toHaveLength(1);
    expect(socket.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(socket.sent).toEqual([
      { type: 'subscribe', executionId: 'e', afterSeq: 0 },
      { type: 'subscribe', executionId: 'e', afterSeq: 0 },
    ]);
    connection.close();
  });

  test('other errors are passed on and not retried; a closed connection sends nothing more', async () => {
    const { socket, messages, connection } = await connected();
    socket.hubSays({ type: 'error', code: 'NOT_FOUND', message: 'execution e not found', executionId: 'e' });
    await vi.advanceTimersByTimeAsync(6000);
    expect(socket.sent).toHaveLength(1);
    expect(messages).toEqual([{ type: 'error', code: 'NOT_FOUND', message: 'execution e not found', executionId: 'e' }]);

    socket.hubSays({ type: 'error', code: 'DELIVERY_FAILED', message: 'could not read events; resubscribe', executionId: 'e' });
    connection.close();
    await vi.advanceTimersByTimeAsync(6000);
    expect(socket.sent).toHaveLength(1);
  });
});
