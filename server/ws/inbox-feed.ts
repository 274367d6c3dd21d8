// The inbox feed: sockets that watch a tenant's approvals hear every approval event of its runs and every
// run end (a run that ends while it waits closes its open approvals without an approval event). One Redis
// pattern subscription per tenant that has a watcher.
import type Redis from 'ioredis';
import { executionEventSchema, RUN_END_EVENTS, tenantExecutionPattern, type ExecutionEvent } from '../../core/events';

export interface InboxWatcher {
  send(raw: string): void;
}

export interface InboxFeed {
  watch(tenantId: string, watcher: InboxWatcher): Promise<void>;
  unwatch(tenantId: string, watcher: InboxWatcher): Promise<void>;
  close(): Promise<void>;
}

function isInboxEvent(type: string): boolean {
  return type.startsWith('approval.') || (RUN_END_EVENTS as readonly string[]).includes(type);
}

export function createInboxFeed(subscriber: Redis): InboxFeed {
  const watchersByTenant = new Map<string, Set<InboxWatcher>>();

  subscriber.on('pmessage', (pattern: string, _channel: string, raw: string) => {
    const tenantId = pattern.split(':')[1] ?? '';
    const watchers = watchersByTenant.get(tenantId);
    if (!watchers?.size) return;
    let event: ExecutionEvent;
    try {
      event = executionEventSchema.parse(JSON.parse(raw));
    } catch {
      return;
    }
    if (!isInboxEvent(event.type)) return;
    const message = JSON.stringify({ type: 'approval', event });
    for (const watcher of watchers) watcher.send(message);
  });

  return {
    async watch(tenantId, watcher) {
      let watchers = watchersByTenant.get(tenantId);
      if (!watchers) {
        watchers = new Set();
        watchersByTenant.set(tenantId, watchers);
        await subscriber.psubscribe(tenantExecutionPattern(tenantId));
      }
      watchers.add(watcher);
    },
    async unwatch(tenantId, watcher) {
      const watchers = watchersByTenant.get(tenantId);
      if (!watchers?.delete(watcher) || watchers.size) return;
      watchersByTenant.delete(tenantId);
      await subscriber.punsubscribe(tenantExecutionPattern(tenantId)).catch(() => undefined);
    },
    async close() {
      const patterns = [...watchersByTenant.keys()].map(tenantExecutionPattern);
      watchersByTenant.clear();
      if (patterns.length) await subscriber.punsubscribe(...patterns).catch(() => undefined);
    },
  };
}
