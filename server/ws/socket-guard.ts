// The WebSocket limits of one API process (core/socket-limits.ts): how many sockets a user and a tenant hold open
// here, and each socket's message budget. The hub asks it when a socket opens and for every message.
import type { Principal } from '../auth/principal';
import { connectionRefusal, fullBucket, takeMessage, type MessageBucket, type SocketLimits } from '../../core/socket-limits';

export interface SocketGuard {
  /** Counts the new socket in, or says why it is refused (then nothing is counted). */
  admit(principal: Principal): { ok: true; messages: MessageBudget } | { ok: false; reason: string };
  /** The socket closed: it no longer counts. */
  release(principal: Principal): void;
}

/** One socket's budget: `allow()` takes a message's token. */
export interface MessageBudget {
  allow(): boolean;
}

export function createSocketGuard(limits: SocketLimits, nowMs: () => number = Date.now): SocketGuard {
  const perUser = new Map<string, number>();
  const perTenant = new Map<string, number>();
  const userKey = (p: Principal) => `${p.tenantId}:${p.userId}`;
  const add = (counts: Map<string, number>, key: string, by: number) => {
    const next = (counts.get(key) ?? 0) + by;
    if (next > 0) counts.set(key, next);
    else counts.delete(key);
  };
  return {
    admit(principal) {
      const reason = connectionRefusal(limits, { user: perUser.get(userKey(principal)) ?? 0, tenant: perTenant.get(principal.tenantId) ?? 0 });
      if (reason) return { ok: false, reason };
      add(perUser, userKey(principal), 1);
      add(perTenant, principal.tenantId, 1);
      let bucket: MessageBucket = fullBucket(limits.messages, nowMs());
      return {
        ok: true,
        messages: {
          allow() {
            const taken = takeMessage(limits.messages, bucket, nowMs());
            bucket = taken.bucket;
            return taken.allowed;
          },
        },
      };
    },
    release(principal) {
      add(perUser, userKey(principal), -1);
      add(perTenant, principal.tenantId, -1);
    },
  };
}
