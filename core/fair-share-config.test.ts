// The per-run cap and WebSocket settings (README configuration table): their defaults, and bad values as readable config errors.
import { ConfigError, loadConfig } from './config';

const secrets = { JWT_SECRET: 'a-test-secret-of-our-own-0123456789', ENCRYPTION_KEY: 'a-test-key-of-our-own-0123456789' };

describe('per-run cap and WebSocket settings', () => {
  it('default to 20 parallel nodes a run, 20/200 sockets and 100 messages per 10 s', () => {
    const config = loadConfig(secrets);
    expect(config.runMaxParallelNodes).toBe(20);
    expect(config.sockets).toEqual({ connectionsPerUser: 20, connectionsPerTenant: 200, messages: { limit: 100, windowSeconds: 10 } });
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
