// loadConfig: the abuse-limit settings (`<requests>/<window seconds>`, absent ones left to the defaults), the access
// token lifetime, the HTTP keep-alive timeouts, the run limits, the directories and the production guard.
import path from 'node:path';
import { ConfigError, loadConfig, parseTrustProxy } from './config';
import { DEFAULT_RUN_LIMITS } from './limits';

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

  it('keeps idle HTTP sockets open past the 60 s of common load balancers, headers timeout above keep-alive', () => {
    expect(loadConfig({}).http).toEqual({ keepAliveTimeoutSeconds: 65, headersTimeoutSeconds: 66 });
    expect(loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '120', HTTP_HEADERS_TIMEOUT_SECONDS: '125' }).http).toEqual({
      keepAliveTimeoutSeconds: 120,
      headersTimeoutSeconds: 125,
    });
    for (const bad of ['0', '-1', '1.5', 'long', '300']) {
      expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: bad, HTTP_HEADERS_TIMEOUT_SECONDS: '300' })).toThrow(/HTTP_KEEP_ALIVE_TIMEOUT_SECONDS/);
    }
    for (const bad of ['1', '2.5', 'soon', '301']) {
      expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '1', HTTP_HEADERS_TIMEOUT_SECONDS: bad })).toThrow(/HTTP_HEADERS_TIMEOUT_SECONDS/);
    }
    // Headers must be allowed longer than an idle socket lives, or a request arriving at its end is cut off.
    expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '90' })).toThrow(/HTTP_HEADERS_TIMEOUT_SECONDS: must be greater than HTTP_KEEP_ALIVE_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '70', HTTP_HEADERS_TIMEOUT_SECONDS: '70' })).toThrow(ConfigError);
  });

  it('makes WEB_DIST_DIR absolute, web/dist by default', () => {
    expect(loadConfig({}).webDistDir).toBe(path.resolve('web', 'dist'));
    expect(loadConfig({ WEB_DIST_DIR: '/srv/tessera-web' }).webDistDir).toBe('/srv/tessera-web');
  });

  it('reads the run limits, with documented defaults, and refuses caps above what Temporal can carry', () => {
    expect(loadConfig({}).limits).toEqual(DEFAULT_RUN_LIMITS);
    expect(
      loadConfig({
        EXPRESSION_TIMEOUT_MS: '500',
        EXPRESSION_MAX_STEPS: '1000',
        EXPRESSION_MEMORY_MB: '64',
        NODE_OUTPUT_MAX_BYTES: '65536',
        RUN_OUTPUTS_MAX_BYTES: '1048576',
        RUN_INPUTS_MAX_BYTES: '4096',
      }).limits,
    ).toEqual({ expressionTimeoutMs: 500, expressionMaxSteps: 1000, expressionMemoryMb: 64, nodeOutputMaxBytes: 65536, runOutputsMaxBytes: 1048576, runInputsMaxBytes: 4096 });
    // One node output must fit one Temporal payload (2 MiB), all of a run's outputs its history (50 MiB).
    expect(() => loadConfig({ NODE_OUTPUT_MAX_BYTES: String(2 * 1024 * 1024) })).toThrow(/NODE_OUTPUT_MAX_BYTES/);
    expect(() => loadConfig({ RUN_OUTPUTS_MAX_BYTES: String(32 * 1024 * 1024) })).toThrow(/RUN_OUTPUTS_MAX_BYTES/);
    expect(() => loadConfig({ EXPRESSION_TIMEOUT_MS: 'soon' })).toThrow(/EXPRESSION_TIMEOUT_MS/);
  });

  it('makes DATA_DIR absolute, so build tools running elsewhere find it', () => {
    expect(loadConfig({}).dataDir).toBe(path.resolve('.data'));
    expect(loadConfig({ DATA_DIR: 'var/tessera' }).dataDir).toBe(path.join(process.cwd(), 'var', 'tessera'));
    expect(loadConfig({ DATA_DIR: '/srv/tessera' }).dataDir).toBe('/srv/tessera');
  });
});

describe('TRUST_PROXY', () => {
  it('trusts nobody unless set, and takes hop counts, names, addresses and ranges', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('loopback, 10.0.0.0/8,fd00::1')).toEqual(['loopback', '10.0.0.0/8', 'fd00::1']);
  });

  it('refuses what is neither, naming the entry', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'loopback,proxy.example.com' })).toThrow(ConfigError);
    expect(() => parseTrustProxy('10.0.0.0/99')).toThrow(/TRUST_PROXY: "10.0.0.0\/99"/);
  });
});
