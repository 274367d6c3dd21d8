// Publishes stored execution events on the tenant's Redis channel, for the WebSocket hubs of every API process.
import type Redis from 'ioredis';
import { executionChannel, type ExecutionEvent } from '../core/events';

export interface ExecutionEventPublisher {
  publish(tenantId: string, events: ExecutionEvent[]): Promise<void>;
}

export function createRedisEventPublisher(redis: Redis, onError: (err: unknown) => void): ExecutionEventPublisher {
  return {
    async publish(tenantId, events) {
      for (const event of events) {
        try {
          await redis.publish(executionChannel(tenantId, event.executionId), JSON.stringify(event));
        } catch (err) {
          // The event is already stored: a subscriber that missed it gets it on (re)subscribe replay.
          onError(err);
        }
      }
    },
  };
}
