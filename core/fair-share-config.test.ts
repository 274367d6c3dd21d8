// The per-run cap, the worker's activity slots and per-tenant share, and WebSocket settings (README configuration table): their defaults, and bad values as readable config errors.
import { ConfigError, loadConfig } from './config';

const secrets = { JWT_SECRET: 'a-test-secret-of-our-own-0123456789', ENCRYPTION_KEY: 'a-test-key-of-our-own-0123456789' };

describe('per-run cap and WebSocket settings', () => {
  it('default to 20 parallel nodes a run, 20/200 sockets and 100 messages per 10 s', () => {
    const config = loadConfig(secrets);
    expect(config.runMaxParallelNodes).toBe(20);
    expect(config.sockets).toEqual({ connectionsPerUser: 20, connectionsPerTenant: 200, messages: { limit: 100, windowSeconds: 10 } });
  });

  it("default to 1000 activity slots a worker, 50 of them a tenant's at once, and read both from the environment", () => {
    expect(loadConfig(secrets).workerActivities).toEqual({ maxConcurrent: 1000, maxConcurrentPerTenant: 50 });
    const config = loadConfig({ ...secrets, WORKER_MAX_CONCURRENT_ACTIVITIES: '300', TENANT_MAX_CONCURRENT_ACTIVITIES: '7' });
    expect(config.workerActivities).toEqual({ maxConcurrent: 300, maxConcurrentPerTenant: 7 });
    expect(() => loadConfig({ ...secrets, TENANT_MAX_CONCURRENT_ACTIVITIES: '0' })).toThrow(/TENANT_MAX_CONCURRENT_ACTIVITIES/);
  });

  it('reads them from the environment', () => {
    const config = loadConfig({ ...secrets, RUN_MAX_PARALLEL_NODES: '5', WS_MESSAGES_PER_SOCKET: '30/5' });
    expect(config.runMaxParallelNodes).toBe(5);
    expect(config.sockets.messages).toEqual({ limit: 30, windowSeconds: 5 });
  });

  it('refuses a cap of 0 and a malformed message rate, naming each', () => {
    expect(() => loadConfig({ ...secrets, RUN_MAX_PARALLEL_NODES: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...secrets, RUN_MAX_PARALLEL_NODES: '0' })).toThrow(/RUN_MAX_PARALLEL_NODES/);
    expect(() => loadConfig({ ...secrets, WS_MESSAGES_PER_SOCKET: 'lots' })).toThrow(/WS_MESSAGES_PER_SOCKET: must be <messages>\/<window seconds>/);
  });
});
