// The sessions ended by logout, so their access tokens are refused before they expire. Every access token names
// its session (the `sid` claim, its refresh-token family); each API process keeps the ended ones in memory, told
// by the invalidation bus, so an authenticated request pays no round trip for the check. Redis keeps each ended
// session for one access-token lifetime (after that its tokens have expired anyway), and a process that starts
// later loads them once before it answers its first authenticated request.
import type Redis from 'ioredis';
import type { InvalidationBus } from '../cache/invalidation-bus';

export interface SessionRevocations {
  /** Whether the session was ended; waits only for the start-up load, never for Redis afterwards. */
  isRevoked(sessionId: string): Promise<boolean>;
  /** Ends the sessions here, in Redis and on every other API process. */
  revoke(sessionIds: readonly string[]): Promise<void>;
}

export const REVOKED_SESSION_PREFIX = 'tessera:revoked-session:';

export function createSessionRevocations(deps: {
  redis: Redis;
  bus: InvalidationBus;
  /** How long an access token lives: how long an ended session must be remembered. */
  accessTtlSeconds: number;
  onError: (err: unknown) => void;
  prefix?: string;
}): SessionRevocations {
  const prefix = deps.prefix ?? REVOKED_SESSION_PREFIX;
  const ttlMs = deps.accessTtlSeconds * 1000;
  /** Session id → when its last access token expires (ms); past that the entry is dropped. */
  const ended = new Map<string, number>();

  const remember = (sessionId: string, until: number) => {
    const now = Date.now();
    if (until > now) ended.set(sessionId, until);
    // Insertion order is nearly expiry order (an entry lives ttlMs), so expired ones gather at the front; one left
    // behind is still checked against its expiry.
    for (const [id, expires] of ended) {
      if (expires > now) break;
      ended.delete(id);
    }
  };

  deps.bus.on((change) => {
    if (change.kind !== 'session') return;
    const until = Date.now() + ttlMs;
    for (const id of change.sessionIds) remember(id, until);
  });

  async function load(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await deps.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const ttls = await Promise.all(keys.map((key) => deps.redis.pttl(key)));
      keys.forEach((key, i) => {
        const ttl = ttls[i] ?? -2;
        if (ttl > 0) remember(key.slice(prefix.length), Date.now() + ttl);
      });
    } while (cursor !== '0');
  }
  // A failed load is logged and not retried: the refusal then rests on the bus alone until the tokens expire.
  const loaded = load().catch(deps.onError);

  return {
    async isRevoked(sessionId) {
      await loaded;
      const until = ended.get(sessionId);
      return until !== undefined && until > Date.now();
    },

    async revoke(sessionIds) {
      if (sessionIds.length === 0) return;
      const multi = deps.redis.multi();
      for (const id of sessionIds) multi.set(`${prefix}${id}`, '1', 'PX', ttlMs);
      await multi.exec();
      await deps.bus.publish({ kind: 'session', sessionIds: [...sessionIds] });
    },
  };
}
