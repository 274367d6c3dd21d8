// Ordered delivery of one run's (or export's) events to every socket subscribed to it in this process.
// The stream holds the events it has seen, contiguous from seq 1 (or from where the cap cut them), so a
// new subscriber is caught up from memory and a live event is serialised once and written to every socket.
// The database is read only to fill a gap: once when the stream opens, and when a live event skips ahead
// (parallel activities may publish out of order); a subscriber older than the memory reads its own replay.
import type { ExecutionEvent, WsServerMessage } from '../../core/events';

/** Events a stream keeps in memory; older ones are replayed from the database for a subscriber that needs them. */
export const STREAM_MEMORY_EVENTS = 10_000;
const PAGE = 500;

export interface StreamSink {
  /** Writes one serialised server message to the socket. */
  send(raw: string): void;
  /** The last seq this sink has (its afterSeq at first): nothing at or before it is sent again. */
  lastSent: number;
}

/** Stored events after `afterSeq`, at most `limit`, in seq order. */
export type EventReader = (afterSeq: number, limit: number) => Promise<ExecutionEvent[]>;

export interface EventStream {
  /** Catches the sink up (memory first, then live) and adds it; resolves with the seq it is at. */
  join(sink: StreamSink): Promise<number>;
  leave(sink: StreamSink): void;
  /** A live event from Redis. */
  offer(event: ExecutionEvent): void;
  /** A live message that is no event (a delta): written to every joined sink as is, outside the seq order. */
  relay(raw: string): void;
  size(): number;
}

export function createEventStream(read: EventReader, onFailure: (err: unknown, sinks: StreamSink[]) => void, memory = STREAM_MEMORY_EVENTS): EventStream {
  const sinks = new Set<StreamSink>();
  /** events[i].seq === base + 1 + i, raws[i] its message as sent; `head` is the last contiguous seq known. */
  let events: ExecutionEvent[] = [];
  let raws: string[] = [];
  let base = 0;
  let opened = false;
  const ahead = new Map<number, ExecutionEvent>();
  // One chain per stream: the first read, gap fills, joins and live events happen one after another, in order.
  let chain: Promise<void> = Promise.resolve();
  const head = () => base + events.length;

  const serialise = (event: ExecutionEvent) => JSON.stringify({ type: 'event', event } satisfies WsServerMessage);

  function deliver(event: ExecutionEvent, raw: string): void {
    for (const sink of sinks) {
      if (event.seq <= sink.lastSent) continue;
      sink.lastSent = event.seq;
      sink.send(raw);
    }
  }

  function append(event: ExecutionEvent): void {
    const raw = serialise(event);
    events.push(event);
    raws.push(raw);
    if (events.length > memory) {
      const drop = events.length - memory;
      events = events.slice(drop);
      raws = raws.slice(drop);
      base += drop;
    }
    deliver(event, raw);
  }

  /** Appends what follows `head` from `ahead`. */
  function drainAhead(): void {
    for (let next = ahead.get(head() + 1); next; next = ahead.get(head() + 1)) {
      ahead.delete(next.seq);
      append(next);
    }
    for (const seq of ahead.keys()) if (seq <= head()) ahead.delete(seq);
  }

  /** Reads what the database has after `head`, page by page. */
  async function fill(): Promise<void> {
    for (;;) {
      const page = await read(head(), PAGE);
      for (const event of page) if (event.seq === head() + 1) append(event);
      if (page.length < PAGE) break;
    }
    opened = true;
    drainAhead();
  }

  /** Runs `work` after everything queued before it; a failure rejects its own promise, not the chain. */
  function enqueue(work: () => Promise<void> | void): Promise<void> {
    const run = chain.then(work);
    chain = run.catch(() => undefined);
    return run;
  }

  return {
    async join(sink) {
      let at = 0;
      await enqueue(async () => {
        if (!opened) await fill();
        // Older than the memory: this sink replays the missing part itself (rare: a run of > `memory` events).
        while (sink.lastSent < base) {
          const page = await read(sink.lastSent, Math.min(PAGE, base - sink.lastSent));
          if (!page.length) break;
          for (const event of page) {
            if (event.seq !== sink.lastSent + 1) continue;
            sink.lastSent = event.seq;
            sink.send(serialise(event));
          }
        }
        for (let i = Math.max(0, sink.lastSent - base); i < events.length; i++) {
          sink.lastSent = events[i]!.seq;
          sink.send(raws[i]!);
        }
        sinks.add(sink);
        at = Math.max(sink.lastSent, head());
      });
      return at;
    },
    leave(sink) {
      sinks.delete(sink);
    },
    offer(event) {
      enqueue(async () => {
        if (event.seq <= head()) return;
        if (event.seq === head() + 1 && opened) {
          append(event);
          drainAhead();
          return;
        }
        ahead.set(event.seq, event);
        if (opened) await fill(); // a gap: the stored log has what Redis delivered out of order
      }).catch((err: unknown) => onFailure(err, [...sinks]));
    },
    relay(raw) {
      for (const sink of sinks) sink.send(raw);
    },
    size: () => sinks.size,
  };
}
