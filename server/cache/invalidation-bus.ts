// Tells every API process that something it may hold in memory changed: a member's role or membership,
// a deleted workflow (and its runs), a deleted tenant, a session ended by logout. One Redis channel; the process that makes the change
// also forgets locally at once, so its own next request never sees the old value.
import type Redis from 'ioredis';
import { INVALIDATION_CHANNEL, invalidationSchema, type Invalidation } from '../../core/invalidation';

export { INVALIDATION_CHANNEL, invalidationSchema, type Invalidation };

export interface InvalidationBus {
  /** Forgets here, then tells the other processes; a Redis failure is logged, the local forget stands. */
  publish(change: Invalidation): Promise<void>;
  on(listener: (change: Invalidation) => void): void;
}

export function createInvalidationBus(deps: {
  redis: Redis;
  /** A connection in subscriber mode (the WebSocket hub's); other channels' messages are left alone. */
  subscriber: Redis;
  onError: (err: unknown) => void;
  channel?: string;
}): InvalidationBus {
  const channel = deps.channel ?? INVALIDATION_CHANNEL;
  const listeners: Array<(change: Invalidation) => void> = [];
  const tell = (change: Invalidation) => {
    for (const listener of listeners) listener(change);
  };
  deps.subscriber.on('message', (from: string, raw: string) => {
    if (from !== channel) return;
    let change: Invalidation;
    try {
      change = invalidationSchema.parse(JSON.parse(raw));
    } catch (err) {
      deps.onError(err);
      return;
    }
    tell(change);
  });
  // Subscribing while ioredis still connects races its ready check (INFO is refused in subscriber mode); once
  // subscribed, ioredis subscribes again by itself after a reconnect.
  const subscribe = () => void deps.subscriber.subscribe(channel).catch(deps.onError);
  if (deps.subscriber.status === 'ready') subscribe();
  else deps.subscriber.once('ready', subscribe);
  return {
    async publish(change) {
      tell(change);
      await deps.redis.publish(channel, JSON.stringify(change)).catch(deps.onError);
    },
    on(listener) {
      listeners.push(listener);
    },
  };
}
