// Publishes stored execution events on the tenant's Redis channel, for the WebSocket hubs of every API process,
// and an agent's streamed text (deltas) on the run's delta channel, which nothing stores.
import type Redis from 'ioredis';
import { deltaChannel, executionChannel, type DeltaMessage, type ExecutionEvent } from '../core/events';
import { INVALIDATION_CHANNEL, type Invalidation } from '../core/invalidation';
import { RUN_ENDED_CHANNEL } from '../core/run-admission';

export interface ExecutionEventPublisher {
  publish(tenantId: string, events: ExecutionEvent[]): Promise<void>;
  /** Best effort: a delta lost is text the stored `node.succeeded` carries whole anyway. Absent: no streaming. */
  publishDelta?(tenantId: string, delta: DeltaMessage): Promise<void>;
  /** Tells the API processes a run of the tenant ended, so its next queued runs start (run admission; a lost one is swept). */
  publishRunEnded?(tenantId: string): Promise<void>;
  /** Tells the API processes these runs were purged (retention), so their caches stop answering for them. */
  publishRunsPurged?(tenantId: string, executionIds: string[]): Promise<void>;
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
    async publishRunEnded(tenantId) {
      try {
        await redis.publish(RUN_ENDED_CHANNEL, JSON.stringify({ tenantId }));
      } catch (err) {
        onError(err);
      }
    },
    async publishRunsPurged(tenantId, executionIds) {
      const change: Invalidation = { kind: 'runs', tenantId, executionIds };
      try {
        await redis.publish(INVALIDATION_CHANNEL, JSON.stringify(change));
      } catch (err) {
        onError(err);
      }
    },
    async publishDelta(tenantId, delta) {
      try {
        await redis.publish(deltaChannel(tenantId, delta.executionId), JSON.stringify(delta));
      } catch (err) {
        onError(err);
      }
    },
  };
}
