// A WebSocket subscription to one execution's events that survives disconnects: on every (re)connect it
// subscribes with the last sequence number it has seen, so the hub replays what was missed and nothing is lost.
import type { ExecutionEvent } from './types';

export interface RunSocketOptions {
  executionId: string;
  afterSeq: number;
  /** A current access token (refreshed if need be) for each handshake. */
  token: () => Promise<string | null>;
  onEvent: (event: ExecutionEvent) => void;
  onState?: (state: 'connecting' | 'live' | 'closed') => void;
}

const MAX_BACKOFF_MS = 5000;

export class RunSocket {
  private socket: WebSocket | null = null;
  private lastSeq: number;
  private stopped = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: RunSocketOptions) {
    this.lastSeq = opts.afterSeq;
    void this.connect();
  }

  get seq(): number {
    return this.lastSeq;
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close();
    this.opts.onState?.('closed');
  }

  /** Drops the connection as a network failure would; used to prove a reconnect loses nothing. */
  dropConnection(): void {
    this.socket?.close();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.opts.onState?.('connecting');
    const token = await this.opts.token();
    if (this.stopped || token === null) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws?token=${encodeURIComponent(token)}`);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      socket.send(JSON.stringify({ type: 'subscribe', executionId: this.opts.executionId, afterSeq: this.lastSeq }));
    };
    socket.onmessage = (message) => {
      let parsed: { type?: string; event?: ExecutionEvent };
      try {
        parsed = JSON.parse(String(message.data)) as typeof parsed;
      } catch {
        return;
      }
      if (parsed.type === 'subscribed') this.opts.onState?.('live');
      if (parsed.type === 'event' && parsed.event && parsed.event.seq > this.lastSeq) {
        this.lastSeq = parsed.event.seq;
        this.opts.onEvent(parsed.event);
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      this.opts.onState?.('connecting');
      const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.attempt++);
      this.timer = setTimeout(() => void this.connect(), delay);
    };
  }
}
