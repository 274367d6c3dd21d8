// The queue in front of scrypt for login and sign-up: at most `concurrency` hashes at once (p-limit), at most
// `queue` waiting, and at most `perClient` of one client's attempts held at a time. What does not fit is answered
// 429 with Retry-After at once, so a flood of wrong passwords costs the attacker refusals instead of costing
// every other user a wait behind an unbounded line of 32 MiB hashes.
import pLimit from 'p-limit';
import { TooManyRequests } from '../../core/errors';
import type { KdfQueueSettings } from '../../core/login-limits';

export interface KdfQueue {
  /** Runs `work` (a password hash or check) for `client` when a slot is free; TooManyRequests when none will be soon. */
  run<T>(client: string, work: () => Promise<T>): Promise<T>;
}

export function createKdfQueue(settings: KdfQueueSettings): KdfQueue {
  const limit = pLimit(settings.concurrency);
  const heldBy = new Map<string, number>();
  return {
    async run(client, work) {
      const held = heldBy.get(client) ?? 0;
      if (held >= settings.perClient) {
        throw new TooManyRequests('too many sign-in attempts from this client at once; retry in 1 s', 1, { limit: 'loginKdfPerClient' });
      }
      if (limit.activeCount + limit.pendingCount >= settings.concurrency + settings.queue) {
        throw new TooManyRequests('the server is busy checking passwords; retry in 1 s', 1, { limit: 'loginKdfQueue' });
      }
      heldBy.set(client, held + 1);
      try {
        return await limit(work);
      } finally {
        const left = (heldBy.get(client) ?? 1) - 1;
        if (left > 0) heldBy.set(client, left);
        else heldBy.delete(client);
      }
    },
  };
}
