// Limits on wrong passwords that an attacker cannot turn against the account's owner. Failures count per email
// and client (the source address as TRUST_PROXY lets Express see it): the first few are answered at once, each
// later one makes that pair wait twice as long as the last, up to a ceiling, and a success clears the pair. So an
// attacker's guesses slow the attacker, while the owner, from their own address, signs in as usual. Above the
// pairs, a higher ceiling of failures per email from all clients bounds a guesser spread over many addresses;
// only that one can lock the owner out, and only for its window. Kept in Redis so every API process counts alike.
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { TooManyRequests } from '../../core/errors';
import type { LoginThrottleSettings } from '../../core/login-limits';

export interface LoginThrottle {
  /** Throws TooManyRequests (with the seconds to wait) when this email may not be tried from this client yet. */
  check(email: string, client: string): Promise<void>;
  /** A wrong password (or an unknown email): counts against the pair and the email. */
  failed(email: string, client: string): Promise<void>;
  /** The right password: the pair starts afresh (the email's count stays, it bounds the spread-out guesser). */
  succeeded(email: string, client: string): Promise<void>;
}

/** The wait after the `failures`-th failure of a pair, in seconds (0 while free). */
export function loginDelaySeconds(failures: number, settings: Pick<LoginThrottleSettings, 'freeFailures' | 'maxDelaySeconds'>): number {
  if (failures <= settings.freeFailures) return 0;
  return Math.min(2 ** Math.min(failures - settings.freeFailures - 1, 30), settings.maxDelaySeconds);
}

export function createLoginThrottle(redis: Redis, settings: LoginThrottleSettings, prefix = 'tessera:login'): LoginThrottle {
  const windowMs = settings.windowSeconds * 1000;
  // Emails are hashed so that Redis key names do not list who was tried.
  const emailKey = (email: string) => `${prefix}:email:${createHash('sha256').update(email).digest('base64url')}`;
  const pairKeys = (email: string, client: string) => {
    const pair = `${prefix}:pair:${createHash('sha256').update(`${email}\n${client}`).digest('base64url')}`;
    return { failures: `${pair}:failures`, wait: `${pair}:wait` };
  };

  return {
    async check(email, client) {
      const keys = pairKeys(email, client);
      const email_ = emailKey(email);
      const [[, waitMs], [, emailFailures], [, emailTtl]] = (await redis.multi().pttl(keys.wait).get(email_).pttl(email_).exec()) as [
        [null, number],
        [null, string | null],
        [null, number],
      ];
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        throw new TooManyRequests(`too many failed sign-ins for this email from this client; retry in ${seconds} s`, seconds, { limit: 'loginDelay' });
      }
      if (settings.failuresPerEmail > 0 && Number(emailFailures ?? 0) >= settings.failuresPerEmail) {
        const seconds = emailTtl > 0 ? Math.ceil(emailTtl / 1000) : settings.windowSeconds;
        throw new TooManyRequests(`too many failed sign-ins for this email; retry in ${seconds} s`, seconds, { limit: 'loginFailuresPerEmail' });
      }
    },

    async failed(email, client) {
      const keys = pairKeys(email, client);
      const email_ = emailKey(email);
      // The window starts at a key's first failure (NX), as the rate limiter's fixed windows do.
      const [[, failures]] = (await redis
        .multi()
        .incr(keys.failures)
        .pexpire(keys.failures, windowMs, 'NX')
        .incr(email_)
        .pexpire(email_, windowMs, 'NX')
        .exec()) as [[null, number], ...unknown[]];
      const delay = loginDelaySeconds(failures, settings);
      if (delay > 0) await redis.set(keys.wait, '1', 'PX', delay * 1000);
    },

    async succeeded(email, client) {
      const keys = pairKeys(email, client);
      await redis.del(keys.failures, keys.wait);
    },
  };
}
