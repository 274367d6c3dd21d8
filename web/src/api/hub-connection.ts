// One WebSocket connection to the API's hub that comes back after every drop: each (re)connect takes a fresh
// access token and sends the caller's hello (a subscription), so whoever uses it resumes where it left off.
export interface HubMessage {
  type?: string;
  [key: string]: unknown;
}

export interface HubConnectionOptions {
  /** A current access token (refreshed if need be) for each handshake. */
  token: () => Promise<string | null>;
  /** The message sent on every open: what to subscribe to, from where. */
  hello: () => unknown;
  onMessage: (message: HubMessage) => void;
  onState?: (state: 'connecting' | 'open' | 'closed') => void;
}

const MAX_BACKOFF_MS = 5000;
/** Errors after which the hub asks the client to send its hello again ("try again", "resubscribe"). */
const RETRYABLE_ERRORS = new Set(['SUBSCRIBE_FAILED', 'DELIVERY_FAILED']);

export class HubConnection {
  private socket: WebSocket | null = null;
  private stopped = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: HubConnectionOptions) {
    void this.connect();
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

  /** Resends the hello on the same socket after a backoff, when the hub could not serve it this time. */
  private helloAgain(socket: WebSocket): void {
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.attempt++);
    this.timer = setTimeout(() => {
      if (this.socket === socket && !this.stopped && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(this.opts.hello()));
    }, delay);
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
      this.opts.onState?.('open');
      socket.send(JSON.stringify(this.opts.hello()));
    };
    socket.onmessage = (message) => {
      let parsed: HubMessage;
      try {
        parsed = JSON.parse(String(message.data)) as HubMessage;
      } catch {
        return;
      }
      if (parsed.type === 'error' && typeof parsed['code'] === 'string' && RETRYABLE_ERRORS.has(parsed['code'])) {
        this.helloAgain(socket);
      } else if (parsed.type !== 'error') {
        this.attempt = 0;
      }
      this.opts.onMessage(parsed);
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
