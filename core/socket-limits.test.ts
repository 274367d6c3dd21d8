import { connectionRefusal, DEFAULT_SOCKET_LIMITS, fullBucket, takeMessage } from './socket-limits';

describe('WebSocket limits', () => {
  it('refuses the connection after the per-user and per-tenant counts, naming the setting', () => {
    const limits = { ...DEFAULT_SOCKET_LIMITS, connectionsPerUser: 2, connectionsPerTenant: 3 };
    expect(connectionRefusal(limits, { user: 1, tenant: 1 })).toBeNull();
    expect(connectionRefusal(limits, { user: 2, tenant: 2 })).toMatch(/at most 2 per user \(WS_MAX_CONNECTIONS_PER_USER\)/);
    expect(connectionRefusal(limits, { user: 0, tenant: 3 })).toMatch(/at most 3 per tenant/);
  });

  it('lets a burst of the limit through, then holds a flood to the refill rate', () => {
    const rate = { limit: 100, windowSeconds: 10 };
    let bucket = fullBucket(rate, 0);
    let allowed = 0;
    // 2,000 messages over 3.8 s (the probe's flood): 100 at once plus 10 a second.
    for (let i = 0; i < 2000; i += 1) {
      const r = takeMessage(rate, bucket, (i * 3800) / 2000);
      bucket = r.bucket;
      if (r.allowed) allowed += 1;
    }
    expect(allowed).toBeGreaterThanOrEqual(137);
    expect(allowed).toBeLessThanOrEqual(139);
  });

  it('does not limit when the limit is 0', () => {
    const rate = { limit: 0, windowSeconds: 1 };
    expect(takeMessage(rate, fullBucket(rate, 0), 0).allowed).toBe(true);
  });
});
