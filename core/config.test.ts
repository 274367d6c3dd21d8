// loadConfig: the abuse-limit settings (`<requests>/<window seconds>`, absent ones left to the defaults), the access
// token lifetime and the production guard.
import path from 'node:path';
import { ConfigError, loadConfig } from './config';

describe('configuration', () => {
  it('reads RATE_LIMIT_* as requests per window and leaves unset ones out', () => {
    const config = loadConfig({ RATE_LIMIT_AUTH_PER_EMAIL: '10/900', RATE_LIMIT_RUN_STARTS_PER_TENANT: '0/60' });
    expect(config.rateLimits).toEqual({ authPerEmail: { limit: 10, windowSeconds: 900 }, runStartsPerTenant: { limit: 0, windowSeconds: 60 } });
    expect(loadConfig({}).rateLimits).toEqual({});
  });

  it('refuses a malformed setting naming the variable', () => {
    for (const bad of ['10', '10/0', 'ten/60', '-1/60', '10/60s']) {
      expect(() => loadConfig({ RATE_LIMIT_API_PER_TENANT: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ RATE_LIMIT_API_PER_TENANT: bad })).toThrow(/RATE_LIMIT_API_PER_TENANT/);
    }
  });

  it('refuses to start in production with the dev encryption key', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'a-real-secret-of-enough-length' })).toThrow(/ENCRYPTION_KEY/);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'a-real-secret-of-enough-length', ENCRYPTION_KEY: 'another-real-secret-here' }).production).toBe(true);
  });

  it('reads the access token lifetime and refuses one out of range', () => {
    expect(loadConfig({}).accessTokenTtlSeconds).toBe(900);
    expect(loadConfig({ ACCESS_TOKEN_TTL_SECONDS: '60' }).accessTokenTtlSeconds).toBe(60);
    for (const bad of ['0', '-5', '1.5', 'soon', '86401']) {
      expect(() => loadConfig({ ACCESS_TOKEN_TTL_SECONDS: bad })).toThrow(/ACCESS_TOKEN_TTL_SECONDS/);
    }
  });

  it('makes DATA_DIR absolute, so build tools running elsewhere find it', () => {
    expect(loadConfig({}).dataDir).toBe(path.resolve('.data'));
    expect(loadConfig({ DATA_DIR: 'var/tessera' }).dataDir).toBe(path.join(process.cwd(), 'var', 'tessera'));
    expect(loadConfig({ DATA_DIR: '/srv/tessera' }).dataDir).toBe('/srv/tessera');
  });
});
