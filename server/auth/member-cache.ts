// Who a token's user is now (tenant, role, email), read from the database once and then kept in memory for
// a short while, so an authenticated request does not pay a query for it. A role change, a removal or a
// deleted tenant is published on the invalidation bus: the changing process forgets at once, the others as
// soon as Redis delivers; the time-to-live only bounds how long a lost message could leave an old role.
import { LRUCache } from 'lru-cache';
import type { AccountRepository } from '../../db/repositories/accounts';
import type { InvalidationBus } from '../cache/invalidation-bus';

export type Member = Awaited<ReturnType<AccountRepository['currentMember']>> & {};

export interface MemberCache {
  /** The member, or null when the user no longer exists (absences are not kept). */
  current(userId: string): Promise<Member | null>;
}

/** The user as a member of `tenantId` now; null once they left it (or the tenant is gone). */
export async function memberOf(members: MemberCache, userId: string, tenantId: string): Promise<Member | null> {
  const user = await members.current(userId);
  return user && user.tenantId === tenantId ? user : null;
}

export const MEMBER_CACHE_TTL_MS = 10_000;
const MEMBER_CACHE_ENTRIES = 10_000;

export function createMemberCache(deps: { accounts: Pick<AccountRepository, 'currentMember'>; bus: InvalidationBus; ttlMs?: number }): MemberCache {
  const ttl = deps.ttlMs ?? MEMBER_CACHE_TTL_MS;
  const members = new LRUCache<string, Member>({ max: MEMBER_CACHE_ENTRIES, ttl: Math.max(1, ttl) });
  /** Bumped by every invalidation, so a read that started before it does not store what it read. */
  let generation = 0;
  deps.bus.on((change) => {
    generation++;
    if (change.kind === 'member') members.delete(change.userId);
    else if (change.kind === 'tenant') for (const [id, m] of members.entries()) if (m.tenantId === change.tenantId) members.delete(id);
  });
  return {
    async current(userId) {
      if (ttl > 0) {
        const kept = members.get(userId);
        if (kept) return kept;
      }
      const at = generation;
      const member = await deps.accounts.currentMember(userId);
      if (member && ttl > 0 && at === generation) members.set(userId, member);
      return member;
    },
  };
}
