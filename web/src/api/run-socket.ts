// A WebSocket subscription to one execution's events that survives disconnects: on every (re)connect it
// subscribes with the last sequence number it has seen, so the hub replays what was missed and nothing is lost.
import { HubConnection } from './hub-connection';
import type { ExecutionEvent } from './types';
import type { DeltaMessage } from '../stores/streaming-text';

export interface RunSocketOptions {
  executionId: string;
  afterSeq: number;
  /** A current access token (refreshed if need be) for each handshake. */
  token: () => Promise<string | null>;
  onEvent: (event: ExecutionEvent) => void;
  /** An agent's streamed text (not stored, no seq): nothing replays it after a reconnect. */
  onDelta?: (delta: DeltaMessage) => void;
  onState?: (state: 'connecting' | 'live' | 'closed') => void;
}

export class RunSocket {
  private lastSeq: number;
  private readonly connection: HubConnection;

  constructor(private readonly opts: RunSocketOptions) {
    this.lastSeq = opts.afterSeq;
    this.connection = new HubConnection({
      token: opts.token,
      hello: () => ({ type: 'subscribe', executionId: opts.executionId, afterSeq: this.lastSeq }),
      onState: (state) => {
        if (state !== 'open') opts.onState?.(state);
      },
      onMessage: (message) => {
        if (message.type === 'subscribed') opts.onState?.('live');
        if (message.type === 'delta' && message.executionId === opts.executionId) opts.onDelta?.(message as unknown as DeltaMessage);
        const event = message.event as ExecutionEvent | undefined;
        if (message.type === 'event' && event && event.seq > this.lastSeq) {
          this.lastSeq = event.seq;
          opts.onEvent(event);
        }
      },
    });
  }

  get seq(): number {
    return this.lastSeq;
  }

  close(): void {
    this.connection.close();
  }

  /** Drops the connection as a network failure would; used to prove a reconnect loses nothing. */
  dropConnection(): void {
    this.connection.dropConnection();
  }
}
