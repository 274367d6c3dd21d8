// The streams this API process relays, one per Redis channel (one per run or export of a tenant). What an
// id names (a run or an export of the caller's tenant, or nothing) is resolved once, when its stream opens,
// and the Redis channel is subscribed once however many sockets follow it; each Redis message is parsed
// once and handed to its stream.
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { deltaChannel, deltaMessageSchema, executionChannel, executionEventSchema, type ExecutionEvent, type WsServerMessage } from '../../core/events';
import { createEventStream, type EventReader, type EventStream, type StreamSink } from './event-stream';

/** Where the stored events of an id live, or null when the tenant has no such run or export. */
export type ResolveStream = (tenantId: string, id: string) => Promise<{ read: EventReader } | null>;

export interface ChannelRegistry {
  /** Adds the sink to the stream of `id` in the tenant; null when the tenant has nothing by that id. */
  subscribe(tenantId: string, id: string, sink: StreamSink): Promise<{ lastSeq: number } | null>;
  unsubscribe(tenantId: string, id: string, sink: StreamSink): Promise<void>;
  /** Channels with a stream open (for tests and metrics). */
  channelCount(): number;
  close(): Promise<void>;
}

export function createChannelRegistry(deps: {
  subscriber: Redis;
  resolve: ResolveStream;
  logger: Logger;
  onDeliveryFailure: (sinks: StreamSink[], id: string) => void;
}): ChannelRegistry {
  const streams = new Map<string, EventStream>();
  /** Streams being opened: concurrent first subscribers share one resolution and one Redis subscribe. */
  const opening = new Map<string, Promise<EventStream | null>>();
  /** A stream's delta channel (deltaChannel) to the stream: its deltas go to the same, tenant-resolved sinks. */
  const deltaStreams = new Map<string, EventStream>();

  deps.subscriber.on('message', (channel: string, raw: string) => {
    const deltaStream = deltaStreams.get(channel);
    if (deltaStream) {
      const parsed = deltaMessageSchema.safeParse(safeJson(raw));
      if (!parsed.success) return deps.logger.warn({ channel }, 'ignoring a malformed delta on redis');
      const { executionId, nodeId, round, attempt, text } = parsed.data;
      deltaStream.relay(JSON.stringify({ type: 'delta', executionId, nodeId, round, attempt, text } satisfies WsServerMessage));
      return;
    }
    const stream = streams.get(channel);
    if (!stream) return;
    let event: ExecutionEvent;
    try {
      event = executionEventSchema.parse(JSON.parse(raw));
    } catch (err) {
      deps.logger.warn({ err, channel }, 'ignoring a malformed event on redis');
      return;
    }
    stream.offer(event);
  });

  async function open(tenantId: string, id: string, channel: string): Promise<EventStream | null> {
    const source = await deps.resolve(tenantId, id);
    if (!source) return null;
    const stream = createEventStream(source.read, (err, sinks) => {
      deps.logger.warn({ err, id, tenantId }, 'ws delivery failed');
      deps.onDeliveryFailure(sinks, id);
    });
    // Listening before the stream's first read of the stored log, so nothing falls between the two.
    streams.set(channel, stream);
    const deltas = deltaChannel(tenantId, id);
    deltaStreams.set(deltas, stream);
    try {
      await deps.subscriber.subscribe(channel, deltas);
    } catch (err) {
      streams.delete(channel);
      deltaStreams.delete(deltas);
      throw err;
    }
    return stream;
  }

  async function release(channel: string, stream: EventStream): Promise<void> {
    if (stream.size() || streams.get(channel) !== stream) return;
    streams.delete(channel);
    const deltas = [...deltaStreams].filter(([, s]) => s === stream).map(([name]) => name);
    for (const name of deltas) deltaStreams.delete(name);
    await deps.subscriber.unsubscribe(channel, ...deltas).catch(() => undefined);
  }

  return {
    async subscribe(tenantId, id, sink) {
      const channel = executionChannel(tenantId, id);
      let stream = streams.get(channel) ?? null;
      if (!stream) {
        let pending = opening.get(channel);
        if (!pending) {
          pending = open(tenantId, id, channel).finally(() => opening.delete(channel));
          opening.set(channel, pending);
        }
        stream = await pending;
      }
      if (!stream) return null;
      try {
        return { lastSeq: await stream.join(sink) };
      } catch (err) {
        await release(channel, stream);
        throw err;
      }
    },
    async unsubscribe(tenantId, id, sink) {
      const channel = executionChannel(tenantId, id);
      const stream = streams.get(channel);
      if (!stream) return;
      stream.leave(sink);
      await release(channel, stream);
    },
    channelCount: () => streams.size,
    async close() {
      const channels = [...streams.keys(), ...deltaStreams.keys()];
      streams.clear();
      deltaStreams.clear();
      if (channels.length) await deps.subscriber.unsubscribe(...channels).catch(() => undefined);
    },
  };
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
