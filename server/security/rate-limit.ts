// Abuse limits kept in Redis, so every API process counts the same requests: fixed windows keyed by what
// is limited (an IP, an email, a tenant). Over the limit answers 429 with the seconds left in the window.
import type { RequestHandler } from 'express';
import type Redis from 'ioredis';
import { TooManyRequests } from '../../core/errors';

export interface RateLimit {
  /** Requests allowed per window; 0 turns the limit off. */
  limit: number;
  windowSeconds: number;
}

export interface RateLimits {
  /** Login and register attempts per client IP. */
  authPerIp: RateLimit;
  /** Login and register attempts per email address (slows password guessing spread over many IPs). */
  authPerEmail: RateLimit;
  /** Authenticated API requests per tenant. */
  apiPerTenant: RateLimit;
  /** Runs started per tenant. */
  runStartsPerTenant: RateLimit;
  /** Deliveries per webhook (POST /hooks/:id), signed or not. */
  webhookPerHook: RateLimit;
}

/** Generous enough for a busy team and for the test suites; production sets its own through config. */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  authPerIp: { limit: 300, windowSeconds: 600 },
  authPerEmail: { limit: 30, windowSeconds: 600 },
  apiPerTenant: { limit: 6000, windowSeconds: 60 },
  runStartsPerTenant: { limit: 600, windowSeconds: 60 },
  webhookPerHook: { limit: 120, windowSeconds: 60 },
};

export interface RateLimiter {
  /** Counts one hit on `key`; throws TooManyRequests once the window's allowance is spent. */
  hit(name: keyof RateLimits, key: string): Promise<void>;
}

export function createRateLimiter(redis: Redis, limits: RateLimits, prefix = 'tessera:rl'): RateLimiter {
  return {
    async hit(name, key) {
      const { limit, windowSeconds } = limits[name];
      if (limit <= 0) return;
      const redisKey = `${prefix}:${name}:${key}`;
      // One round trip per request: the first hit of a window creates the key with its expiry (SET NX PX),
      // every hit counts; only a key left without an expiry (written by an older version) needs a second trip.
      const [, [, count], [, ttl]] = (await redis
        .multi()
        .set(redisKey, 0, 'PX', windowSeconds * 1000, 'NX')
        .incr(redisKey)
        .pttl(redisKey)
        .exec()) as [unknown, [null, number], [null, number]];
      if (ttl < 0) await redis.pexpire(redisKey, windowSeconds * 1000);
      if (count > limit) {
        const retryAfter = ttl > 0 ? Math.ceil(ttl / 1000) : windowSeconds;
        throw new TooManyRequests(`rate limit exceeded; retry in ${retryAfter} s`, retryAfter, { limit: name });
      }
    },
  };
}

/** A middleware counting each request under the key `keyOf` picks; null skips the count. */
export function rateLimited(limiter: RateLimiter, name: keyof RateLimits, keyOf: (req: Parameters<RequestHandler>[0]) => string | null): RequestHandler {
  return (req, _res, next) => {
    const key = keyOf(req);
    if (key === null) {
      next();
      return;
    }
    limiter.hit(name, key).then(() => next(), next);
  };
}
