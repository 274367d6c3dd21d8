// loadConfig: the abuse-limit settings (`<requests>/<window seconds>`, absent ones left to the defaults), the access
// token lifetime, the HTTP keep-alive timeouts, the run limits, the directories and the production guard.
import path from 'node:path';
import { ConfigError, loadConfig, parseTrustProxy } from './config';
import { DEFAULT_RUN_LIMITS } from './limits';
import { DEFAULT_MODEL_PRICES } from './model-prices';

// JWT_SECRET and ENCRYPTION_KEY have no default (core/stack-secrets.ts).
const SECRETS = { JWT_SECRET: 'a-jwt-secret-of-enough-length', ENCRYPTION_KEY: 'an-encryption-key-of-enough-length' };

describe('configuration', () => {
  it('reads RATE_LIMIT_* as requests per window and leaves unset ones out', () => {
    const config = loadConfig({ ...SECRETS, RATE_LIMIT_AUTH_PER_EMAIL: '10/900', RATE_LIMIT_RUN_STARTS_PER_TENANT: '0/60' });
    expect(config.rateLimits).toEqual({ authPerEmail: { limit: 10, windowSeconds: 900 }, runStartsPerTenant: { limit: 0, windowSeconds: 60 } });
    expect(loadConfig(SECRETS).rateLimits).toEqual({});
  });

  it('refuses a malformed setting naming the variable', () => {
    for (const bad of ['10', '10/0', 'ten/60', '-1/60', '10/60s']) {
      expect(() => loadConfig({ ...SECRETS, RATE_LIMIT_API_PER_TENANT: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ ...SECRETS, RATE_LIMIT_API_PER_TENANT: bad })).toThrow(/RATE_LIMIT_API_PER_TENANT/);
    }
  });

  it('has no default secret: an unset JWT_SECRET or ENCRYPTION_KEY is a readable error in every mode', () => {
    for (const NODE_ENV of ['development', 'production', 'test']) {
      expect(() => loadConfig({ NODE_ENV, ENCRYPTION_KEY: SECRETS.ENCRYPTION_KEY })).toThrow(/JWT_SECRET: not set: set JWT_SECRET .*npm start/);
      expect(() => loadConfig({ NODE_ENV, JWT_SECRET: SECRETS.JWT_SECRET, ENCRYPTION_KEY: '' })).toThrow(/ENCRYPTION_KEY: not set/);
    }
    expect(loadConfig({ ...SECRETS, NODE_ENV: 'production' }).production).toBe(true);
  });

  it('refuses the published defaults of older versions as secrets, and accepts the old key as a previous one', () => {
    expect(() => loadConfig({ ...SECRETS, JWT_SECRET: 'tessera-dev-jwt-secret-not-for-production' })).toThrow(/JWT_SECRET: is a published default value/);
    expect(() => loadConfig({ ...SECRETS, ENCRYPTION_KEY: 'tessera-dev-encryption-key-not-for-production' })).toThrow(/ENCRYPTION_KEY: is a published default value/);
    const rotating = loadConfig({ ...SECRETS, ENCRYPTION_KEY_PREVIOUS: 'tessera-dev-encryption-key-not-for-production, an-older-key-of-enough-length' });
    expect(rotating.encryptionKeyPrevious).toEqual(['tessera-dev-encryption-key-not-for-production', 'an-older-key-of-enough-length']);
    expect(() => loadConfig({ ...SECRETS, ENCRYPTION_KEY_PREVIOUS: 'an-older-key-of-enough-length,short' })).toThrow(/ENCRYPTION_KEY_PREVIOUS: every comma-separated key/);
  });

  it('reads the access token lifetime and refuses one out of range', () => {
    expect(loadConfig(SECRETS).accessTokenTtlSeconds).toBe(900);
    expect(loadConfig({ ...SECRETS, ACCESS_TOKEN_TTL_SECONDS: '60' }).accessTokenTtlSeconds).toBe(60);
    for (const bad of ['0', '-5', '1.5', 'soon', '86401']) {
      expect(() => loadConfig({ ...SECRETS, ACCESS_TOKEN_TTL_SECONDS: bad })).toThrow(/ACCESS_TOKEN_TTL_SECONDS/);
    }
  });

  it('keeps idle HTTP sockets open past the 60 s of common load balancers, headers timeout above keep-alive', () => {
    expect(loadConfig(SECRETS).http).toEqual({ keepAliveTimeoutSeconds: 65, headersTimeoutSeconds: 66 });
    expect(loadConfig({ ...SECRETS, HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '120', HTTP_HEADERS_TIMEOUT_SECONDS: '125' }).http).toEqual({
      keepAliveTimeoutSeconds: 120,
      headersTimeoutSeconds: 125,
    });
    for (const bad of ['0', '-1', '1.5', 'long', '300']) {
      expect(() => loadConfig({ ...SECRETS, HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: bad, HTTP_HEADERS_TIMEOUT_SECONDS: '300' })).toThrow(/HTTP_KEEP_ALIVE_TIMEOUT_SECONDS/);
    }
    for (const bad of ['1', '2.5', 'soon', '301']) {
      expect(() => loadConfig({ ...SECRETS, HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '1', HTTP_HEADERS_TIMEOUT_SECONDS: bad })).toThrow(/HTTP_HEADERS_TIMEOUT_SECONDS/);
    }
    // Headers must be allowed longer than an idle socket lives, or a request arriving at its end is cut off.
    expect(() => loadConfig({ ...SECRETS, HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '90' })).toThrow(/HTTP_HEADERS_TIMEOUT_SECONDS: must be greater than HTTP_KEEP_ALIVE_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ ...SECRETS, HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '70', HTTP_HEADERS_TIMEOUT_SECONDS: '70' })).toThrow(ConfigError);
  });

  it('makes WEB_DIST_DIR absolute, web/dist by default', () => {
    expect(loadConfig(SECRETS).webDistDir).toBe(path.resolve('web', 'dist'));
    expect(loadConfig({ ...SECRETS, WEB_DIST_DIR: '/srv/tessera-web' }).webDistDir).toBe('/srv/tessera-web');
  });

  it('reads the run limits, with documented defaults, and refuses caps above what Temporal can carry', () => {
    expect(loadConfig(SECRETS).limits).toEqual(DEFAULT_RUN_LIMITS);
    expect(
      loadConfig({
        ...SECRETS,
        EXPRESSION_TIMEOUT_MS: '500',
        EXPRESSION_MAX_STEPS: '1000',
        EXPRESSION_MEMORY_MB: '64',
        NODE_OUTPUT_MAX_BYTES: '65536',
        RUN_OUTPUTS_MAX_BYTES: '1048576',
        RUN_INPUTS_MAX_BYTES: '4096',
      }).limits,
    ).toEqual({ expressionTimeoutMs: 500, expressionMaxSteps: 1000, expressionMemoryMb: 64, nodeOutputMaxBytes: 65536, runOutputsMaxBytes: 1048576, runInputsMaxBytes: 4096 });
    // One node output must fit one Temporal payload (2 MiB), all of a run's outputs its history (50 MiB).
    expect(() => loadConfig({ ...SECRETS, NODE_OUTPUT_MAX_BYTES: String(2 * 1024 * 1024) })).toThrow(/NODE_OUTPUT_MAX_BYTES/);
    expect(() => loadConfig({ ...SECRETS, RUN_OUTPUTS_MAX_BYTES: String(32 * 1024 * 1024) })).toThrow(/RUN_OUTPUTS_MAX_BYTES/);
    expect(() => loadConfig({ ...SECRETS, EXPRESSION_TIMEOUT_MS: 'soon' })).toThrow(/EXPRESSION_TIMEOUT_MS/);
  });

  it('serves the worker metrics on 9464 unless WORKER_METRICS_PORT says otherwise (0: a free port), and refuses a bad port', () => {
    expect(loadConfig(SECRETS).workerMetricsPort).toBe(9464);
    expect(loadConfig({ ...SECRETS, WORKER_METRICS_PORT: '0' }).workerMetricsPort).toBe(0);
    expect(loadConfig({ ...SECRETS, WORKER_METRICS_PORT: '19464' }).workerMetricsPort).toBe(19464);
    for (const bad of ['-1', '65536', '94.5', 'metrics']) {
      expect(() => loadConfig({ ...SECRETS, WORKER_METRICS_PORT: bad })).toThrow(/WORKER_METRICS_PORT/);
    }
  });

  it('makes DATA_DIR absolute, so build tools running elsewhere find it', () => {
    expect(loadConfig(SECRETS).dataDir).toBe(path.resolve('.data'));
    expect(loadConfig({ ...SECRETS, DATA_DIR: 'var/tessera' }).dataDir).toBe(path.join(process.cwd(), 'var', 'tessera'));
    expect(loadConfig({ ...SECRETS, DATA_DIR: '/srv/tessera' }).dataDir).toBe('/srv/tessera');
  });
});

describe('MODEL_PRICES', () => {
  it('prices echo at 0 by default and lays the setting over the built-in table', () => {
    expect(loadConfig(SECRETS).modelPrices).toEqual(DEFAULT_MODEL_PRICES);
    expect(DEFAULT_MODEL_PRICES['echo/*']).toEqual({ inputPerMTok: 0, outputPerMTok: 0 });
    const prices = loadConfig({ ...SECRETS, MODEL_PRICES: '{"openai-compatible/llama3": {"inputPerMTok": 0.2, "outputPerMTok": 0.4}, "openai/gpt-4o": {"inputPerMTok": 2, "outputPerMTok": 8}}' }).modelPrices;
    expect(prices['openai-compatible/llama3']).toEqual({ inputPerMTok: 0.2, outputPerMTok: 0.4 });
    expect(prices['openai/gpt-4o']).toEqual({ inputPerMTok: 2, outputPerMTok: 8 });
    expect(prices['echo/*']).toEqual({ inputPerMTok: 0, outputPerMTok: 0 });
  });

  it('refuses what is not a price table, saying where', () => {
    expect(() => loadConfig({ ...SECRETS, MODEL_PRICES: '{nope' })).toThrow(/MODEL_PRICES: is not JSON/);
    expect(() => loadConfig({ ...SECRETS, MODEL_PRICES: '{"gpt-4o": {"inputPerMTok": 1, "outputPerMTok": 2}}' })).toThrow(/MODEL_PRICES: gpt-4o: must be "<provider>\/<model>"/);
    expect(() => loadConfig({ ...SECRETS, MODEL_PRICES: '{"openai/gpt-4o": {"inputPerMTok": -1, "outputPerMTok": 2}}' })).toThrow(/MODEL_PRICES: openai\/gpt-4o.inputPerMTok/);
    expect(() => loadConfig({ ...SECRETS, MODEL_PRICES: '{"openai/gpt-4o": {"inputPerMTok": 1}}' })).toThrow(/MODEL_PRICES: openai\/gpt-4o.outputPerMTok/);
    expect(() => loadConfig({ ...SECRETS, MODEL_PRICES: '{"openai/gpt-4o": {"inputPerMTok": 1, "outputPerMTok": 2, "currency": "EUR"}}' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...SECRETS, MODEL_PRICES: '[]' })).toThrow(/MODEL_PRICES/);
  });
});

describe('RETENTION_DAYS', () => {
  it('keeps runs forever unless set, and reads whole days', () => {
    expect(loadConfig(SECRETS).retentionDays).toBe(0);
    expect(loadConfig({ ...SECRETS, RETENTION_DAYS: '0' }).retentionDays).toBe(0);
    expect(loadConfig({ ...SECRETS, RETENTION_DAYS: '90' }).retentionDays).toBe(90);
  });

  it('refuses what is no whole number of days, saying what it takes', () => {
    for (const bad of ['-1', '1.5', 'ninety', '90d', '36501']) {
      expect(() => loadConfig({ ...SECRETS, RETENTION_DAYS: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ ...SECRETS, RETENTION_DAYS: bad })).toThrow(/RETENTION_DAYS: must be/);
    }
  });
});

describe('TRUST_PROXY', () => {
  it('trusts nobody unless set, and takes hop counts, names, addresses and ranges', () => {
    expect(loadConfig(SECRETS).trustProxy).toBe(false);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('loopback, 10.0.0.0/8,fd00::1')).toEqual(['loopback', '10.0.0.0/8', 'fd00::1']);
  });

  it('refuses what is neither, naming the entry', () => {
    expect(() => loadConfig({ ...SECRETS, TRUST_PROXY: 'loopback,proxy.example.com' })).toThrow(ConfigError);
    expect(() => parseTrustProxy('10.0.0.0/99')).toThrow(/TRUST_PROXY: "10.0.0.0\/99"/);
  });
});

describe('the Temporal connection (TEMPORAL_TLS_*, TEMPORAL_API_KEY)', () => {
  it('is plain unless asked for; a certificate, a CA, a server name or an API key turns TLS on', () => {
    expect(loadConfig(SECRETS).temporal.security).toEqual({ tls: null, apiKey: null });
    expect(loadConfig({ ...SECRETS, TEMPORAL_TLS: 'true' }).temporal.security.tls).toEqual({ certPath: null, keyPath: null, caPath: null, serverName: null });
    expect(loadConfig({ ...SECRETS, TEMPORAL_API_KEY: 'k' }).temporal.security).toEqual({ tls: { certPath: null, keyPath: null, caPath: null, serverName: null }, apiKey: 'k' });
    expect(loadConfig({ ...SECRETS, TEMPORAL_TLS_CERT: 'c.pem', TEMPORAL_TLS_KEY: 'k.pem', TEMPORAL_TLS_SERVER_NAME: 'ns.tmprl.cloud' }).temporal.security.tls).toEqual({
      certPath: 'c.pem',
      keyPath: 'k.pem',
      caPath: null,
      serverName: 'ns.tmprl.cloud',
    });
  });

  it('refuses a certificate without its key, TLS settings with TLS off, and a TEMPORAL_TLS that is no boolean', () => {
    expect(() => loadConfig({ ...SECRETS, TEMPORAL_TLS_CERT: 'c.pem' })).toThrow(/TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: give both/);
    expect(() => loadConfig({ ...SECRETS, TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })).toThrow(/TEMPORAL_TLS: is false/);
    expect(() => loadConfig({ ...SECRETS, TEMPORAL_TLS: 'yes' })).toThrow(/TEMPORAL_TLS: must be true or false/);
  });
});
