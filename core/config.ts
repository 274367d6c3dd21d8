// Process configuration (DESIGN.md §6): every process reads the same variable names through this one
// function, called only by the composition roots with `process.env`.
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { DEFAULT_RUN_LIMITS, NODE_OUTPUT_MAX_BYTES_CEILING, RUN_OUTPUTS_MAX_BYTES_CEILING, type RunLimits } from './limits';
import { AllowedHostsError, NO_ALLOWED_HOSTS, parseAllowedHosts, type AllowedHosts } from './address-policy';
import { DEFAULT_RUNS_MAX_CONCURRENT_PER_TENANT } from './run-admission';
import { DEFAULT_SUBFLOW_MAX_DEPTH } from './child-run';
import { DEFAULT_MAP_MAX_ITEMS } from './map-run';
import { DEFAULT_DEPLOYMENT_SETTINGS, IMAGE_REFERENCE, parseContainerUser, type DeploymentSettings } from './deployment-sandbox';

export const DEV_JWT_SECRET = 'tessera-dev-jwt-secret-not-for-production';
export const DEV_ENCRYPTION_KEY = 'tessera-dev-encryption-key-not-for-production';

const RATE_LIMIT_FORMAT = /^\d{1,9}\/[1-9]\d{0,6}$/;

/** One abuse limit: `limit` requests per `windowSeconds` (0 turns it off). */
export interface RateLimitSetting {
  limit: number;
  windowSeconds: number;
}

function rateLimitSetting(value: string | undefined): RateLimitSetting | undefined {
  if (value === undefined) return undefined;
  const [limit, windowSeconds] = value.split('/').map(Number);
  return { limit: limit ?? 0, windowSeconds: windowSeconds ?? 1 };
}

export interface ToolOutboundSettings {
  allowedHosts: AllowedHosts;
  /** One request (connect, headers and body) of an http tool or an MCP client. */
  timeoutMs: number;
  /** An http tool's response body is cut here and marked truncated. */
  responseMaxBytes: number;
  /** An MCP message larger than this fails the call (a JSON-RPC message cannot be cut). */
  mcpResponseMaxBytes: number;
}

/** What an unset environment gives: no non-public host, 30 s, 64 KiB of an http answer, 4 MiB of an MCP message. */
export const DEFAULT_TOOL_OUTBOUND: ToolOutboundSettings = {
  allowedHosts: NO_ALLOWED_HOSTS,
  timeoutMs: 30_000,
  responseMaxBytes: 64 * 1024,
  mcpResponseMaxBytes: 4 * 1024 * 1024,
};

const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/tessera'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_UI_PORT: z.coerce.number().int().default(8233),
  TEMPORAL_UI_URL: z.string().default('http://localhost:8233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('tessera'),
  DATA_DIR: z.string().default('.data'),
  WEB_DIST_DIR: z.string().default('web/dist'),
  // Above the 60 s idle timeout of common load balancers and proxies, so the API never closes a kept-alive
  // socket a client is about to reuse; at most Node's 300 s request timeout, which headers must arrive within.
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(299).default(65),
  HTTP_HEADERS_TIMEOUT_SECONDS: z.coerce.number().int().min(2).max(300).default(66),
  JWT_SECRET: z.string().min(16).default(DEV_JWT_SECRET),
  ENCRYPTION_KEY: z.string().min(16).default(DEV_ENCRYPTION_KEY),
  // Vault key rotation (docs/security.md "Vault key rotation"): older keys still accepted for decryption.
  ENCRYPTION_KEY_PREVIOUS: z.string().default('').refine(
    (v) => v.split(',').map((k) => k.trim()).filter(Boolean).every((k) => k.length >= 16),
    'every comma-separated key must be at least 16 characters',
  ),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().optional(),
  ANTHROPIC_API_KEY: z.string().optional(),
  ANTHROPIC_BASE_URL: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CORS_ORIGINS: z.string().default(''),
  TESSERA_WORKFLOW_BUNDLE: z.string().optional(),
  // Code export (docs/export.md): the base image of deployments, and the Python with Debian's build tools.
  DEPLOY_BASE_IMAGE: z.string().default('python:3.12-slim'),
  EXPORT_PYTHON: z.string().default('/usr/bin/python3'),
  // Hardened deployments (core/deployment-sandbox.ts, docs/security.md "Hardened deployments").
  DEPLOY_ALLOWED_BASE_IMAGES: z.string().default(DEFAULT_DEPLOYMENT_SETTINGS.allowedBaseImages.join(',')),
  DEPLOY_CONTAINER_USER: z.string().default(DEFAULT_DEPLOYMENT_SETTINGS.user),
  DEPLOY_MEMORY_MB: z.coerce.number().int().min(32).max(1_048_576).default(DEFAULT_DEPLOYMENT_SETTINGS.memoryMb),
  DEPLOY_CPUS: z.coerce.number().min(0.01).max(1024).default(DEFAULT_DEPLOYMENT_SETTINGS.cpus),
  DEPLOY_PIDS_LIMIT: z.coerce.number().int().min(16).max(4_194_304).default(DEFAULT_DEPLOYMENT_SETTINGS.pidsLimit),
  DEPLOY_MAX_RUNNING_PER_TENANT: z.coerce.number().int().min(1).max(100_000).default(DEFAULT_DEPLOYMENT_SETTINGS.maxRunningPerTenant),
  DEPLOY_EGRESS_TENANTS: z.string().default(''),
  // Abuse limits as `<requests>/<window seconds>` (docs/security.md); unset keeps the built-in defaults.
  RATE_LIMIT_AUTH_PER_IP: z.string().regex(RATE_LIMIT_FORMAT).optional(),
  RATE_LIMIT_AUTH_PER_EMAIL: z.string().regex(RATE_LIMIT_FORMAT).optional(),
  RATE_LIMIT_API_PER_TENANT: z.string().regex(RATE_LIMIT_FORMAT).optional(),
  RATE_LIMIT_RUN_STARTS_PER_TENANT: z.string().regex(RATE_LIMIT_FORMAT).optional(),
  RATE_LIMIT_WEBHOOK_PER_HOOK: z.string().regex(RATE_LIMIT_FORMAT).optional(),
  WEBHOOK_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(1024 * 1024),
  // What a user's canvas may cost where it runs (core/limits.ts, docs/decisions.md "Bounded evaluation").
  EXPRESSION_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(DEFAULT_RUN_LIMITS.expressionTimeoutMs),
  EXPRESSION_MAX_STEPS: z.coerce.number().int().min(100).max(100_000_000).default(DEFAULT_RUN_LIMITS.expressionMaxSteps),
  EXPRESSION_MEMORY_MB: z.coerce.number().int().min(16).max(4096).default(DEFAULT_RUN_LIMITS.expressionMemoryMb),
  NODE_OUTPUT_MAX_BYTES: z.coerce.number().int().min(1024).max(NODE_OUTPUT_MAX_BYTES_CEILING).default(DEFAULT_RUN_LIMITS.nodeOutputMaxBytes),
  RUN_OUTPUTS_MAX_BYTES: z.coerce.number().int().min(1024).max(RUN_OUTPUTS_MAX_BYTES_CEILING).default(DEFAULT_RUN_LIMITS.runOutputsMaxBytes),
  RUN_INPUTS_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024).default(DEFAULT_RUN_LIMITS.runInputsMaxBytes),
  // How deep child executions (subflow nodes, workflow tools) may nest below the run that started them (core/child-run.ts).
  SUBFLOW_MAX_DEPTH: z.coerce.number().int().min(1).max(100).default(DEFAULT_SUBFLOW_MAX_DEPTH),
  // The longest list a map node runs, one child run per item (core/map-run.ts).
  MAP_MAX_ITEMS: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_MAP_MAX_ITEMS),
  // How long an open run's row may show no progress before reading it asks Temporal (server/services/repair-gate.ts).
  RUN_REPAIR_STALE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(30),
  // Fair share between tenants (core/run-admission.ts): a tenant's top-level runs holding a slot; more wait queued.
  RUNS_MAX_CONCURRENT_PER_TENANT: z.coerce.number().int().min(1).max(100_000).default(DEFAULT_RUNS_MAX_CONCURRENT_PER_TENANT),
  // How long a tool call on POST /mcp waits for its run (server/mcp/run-tool.ts); under an MCP client's 60 s.
  MCP_TOOL_WAIT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  // In-memory read caches of the API (server/auth/member-cache.ts, server/services/finished-runs.ts); 0 turns each off.
  MEMBER_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
  FINISHED_RUNS_CACHE_MB: z.coerce.number().int().min(0).max(4096).default(64),
  // Outbound requests of http tools and MCP clients (docs/security.md "Outbound requests of tools").
  TOOL_ALLOWED_HOSTS: z.string().default(''),
  // Whose X-Forwarded-For the API believes for the client address (rate-limit keys, the audit log): nobody's
  // unless set. A hop count, or addresses, CIDR ranges and the names loopback, linklocal, uniquelocal.
  TRUST_PROXY: z.string().default(''),
  TOOL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(DEFAULT_TOOL_OUTBOUND.timeoutMs),
  TOOL_RESPONSE_MAX_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(DEFAULT_TOOL_OUTBOUND.responseMaxBytes),
  MCP_RESPONSE_MAX_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(DEFAULT_TOOL_OUTBOUND.mcpResponseMaxBytes),
}).refine((e) => e.HTTP_HEADERS_TIMEOUT_SECONDS > e.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS, {
  // Otherwise a request that arrives on a socket just before its keep-alive ends can be cut off mid-headers.
  path: ['HTTP_HEADERS_TIMEOUT_SECONDS'],
  message: 'must be greater than HTTP_KEEP_ALIVE_TIMEOUT_SECONDS',
});

export interface TesseraConfig {
  production: boolean;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  temporal: { address: string; namespace: string; taskQueue: string; uiUrl: string; uiPort: number };
  dataDir: string;
  /** The built web app the API serves at / (absolute). */
  webDistDir: string;
  /** Node's server.keepAliveTimeout and server.headersTimeout, in seconds; headers > keep-alive. */
  http: { keepAliveTimeoutSeconds: number; headersTimeoutSeconds: number };
  jwtSecret: string;
  /** How long an access token is good for; the refresh token then gets a new one. */
  accessTokenTtlSeconds: number;
  encryptionKey: string;
  /** Keys the vault still decrypts with, never encrypts with (ENCRYPTION_KEY_PREVIOUS), newest first. */
  encryptionKeyPrevious: string[];
  providers: {
    openai: { apiKey?: string; baseURL?: string };
    anthropic: { apiKey?: string; baseURL?: string };
  };
  logLevel: string;
  corsOrigins: string[];
  /** A prebuilt workflow bundle (from `bundleWorkflowCode`), so a worker starts without bundling. */
  workflowBundlePath?: string;
  /** Code export: the default base image of deployments and the Python that builds wheels. */
  export: { deployBaseImage: string; python: string };
  /** Overrides of the API's abuse limits; absent ones keep their defaults. */
  rateLimits: { authPerIp?: RateLimitSetting; authPerEmail?: RateLimitSetting; apiPerTenant?: RateLimitSetting; runStartsPerTenant?: RateLimitSetting; webhookPerHook?: RateLimitSetting };
  /** Express's `trust proxy` (config TRUST_PROXY): false, a hop count, or the proxies' addresses and ranges. */
  trustProxy: TrustProxy;
  /** Largest webhook delivery body (config WEBHOOK_MAX_BODY_BYTES); larger is a 413. */
  webhookMaxBodyBytes: number;
  /** What evaluating a run's texts and keeping its data may cost (the worker's threads, the API's input check). */
  limits: RunLimits;
  /** GET /executions/:id asks Temporal about an open run only after this long without progress (or on ?refresh=true). */
  runRepairStaleMs: number;
  /** How many top-level runs of one tenant run at once; the others wait as pending, in creation order (children are exempt). */
  runsMaxConcurrentPerTenant: number;
  /** How long a tool call on POST /mcp waits for its run to end before answering with the execution id. */
  mcpToolWaitMs: number;
  /** How deep child executions may nest (SUBFLOW_MAX_DEPTH). */
  subflowMaxDepth: number;
  /** The longest list a map node runs (MAP_MAX_ITEMS). */
  mapMaxItems: number;
  /** How long the API keeps a member's role between reads; changes are published, so this only bounds a lost message. */
  memberCacheTtlMs: number;
  /** Bytes of finished runs the API keeps in memory for GET /executions/:id. */
  finishedRunsCacheBytes: number;
  /** Outbound requests of tools and MCP clients: what non-public hosts they may reach, how long and how much. */
  tools: ToolOutboundSettings;
  /** What deployments' containers may use and do: base images, user, limits, egress per tenant, how many at once. */
  deployments: DeploymentSettings;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined>): TesseraConfig {
  // Empty strings mean "unset", as in most shells' `VAR= cmd`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  let allowedHosts: AllowedHosts;
  try {
    allowedHosts = parseAllowedHosts(e.TOOL_ALLOWED_HOSTS);
  } catch (err) {
    if (err instanceof AllowedHostsError) throw new ConfigError(`Invalid configuration:\n  ${err.message}`);
    throw err;
  }
  const trustProxy = parseTrustProxy(e.TRUST_PROXY);
  const deployments = parseDeploymentSettings(e);
  const production = e.NODE_ENV === 'production';
  if (production && (e.JWT_SECRET === DEV_JWT_SECRET || e.ENCRYPTION_KEY === DEV_ENCRYPTION_KEY)) {
    throw new ConfigError('NODE_ENV=production needs JWT_SECRET and ENCRYPTION_KEY set to secrets of your own (the dev defaults are refused).');
  }
  return {
    production,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/+$/, ''),
      uiPort: e.TEMPORAL_UI_PORT,
    },
    // Absolute: build tools run in other directories, and a relative path would follow them.
    dataDir: path.resolve(e.DATA_DIR),
    webDistDir: path.resolve(e.WEB_DIST_DIR),
    http: { keepAliveTimeoutSeconds: e.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS, headersTimeoutSeconds: e.HTTP_HEADERS_TIMEOUT_SECONDS },
    jwtSecret: e.JWT_SECRET,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    encryptionKey: e.ENCRYPTION_KEY,
    encryptionKeyPrevious: e.ENCRYPTION_KEY_PREVIOUS.split(',').map((k) => k.trim()).filter((k) => k !== '' && k !== e.ENCRYPTION_KEY),
    providers: {
      openai: { apiKey: e.OPENAI_API_KEY, baseURL: e.OPENAI_BASE_URL },
      anthropic: { apiKey: e.ANTHROPIC_API_KEY, baseURL: e.ANTHROPIC_BASE_URL },
    },
    logLevel: e.LOG_LEVEL,
    corsOrigins: e.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
    workflowBundlePath: e.TESSERA_WORKFLOW_BUNDLE,
    export: { deployBaseImage: e.DEPLOY_BASE_IMAGE, python: e.EXPORT_PYTHON },
    deployments,
    limits: {
      expressionTimeoutMs: e.EXPRESSION_TIMEOUT_MS,
      expressionMaxSteps: e.EXPRESSION_MAX_STEPS,
      expressionMemoryMb: e.EXPRESSION_MEMORY_MB,
      nodeOutputMaxBytes: e.NODE_OUTPUT_MAX_BYTES,
      runOutputsMaxBytes: e.RUN_OUTPUTS_MAX_BYTES,
      runInputsMaxBytes: e.RUN_INPUTS_MAX_BYTES,
    },
    runRepairStaleMs: e.RUN_REPAIR_STALE_SECONDS * 1000,
    runsMaxConcurrentPerTenant: e.RUNS_MAX_CONCURRENT_PER_TENANT,
    mcpToolWaitMs: e.MCP_TOOL_WAIT_SECONDS * 1000,
    subflowMaxDepth: e.SUBFLOW_MAX_DEPTH,
    mapMaxItems: e.MAP_MAX_ITEMS,
    webhookMaxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
    trustProxy,
    memberCacheTtlMs: e.MEMBER_CACHE_SECONDS * 1000,
    finishedRunsCacheBytes: e.FINISHED_RUNS_CACHE_MB * 1024 * 1024,
    tools: { allowedHosts, timeoutMs: e.TOOL_TIMEOUT_MS, responseMaxBytes: e.TOOL_RESPONSE_MAX_BYTES, mcpResponseMaxBytes: e.MCP_RESPONSE_MAX_BYTES },
    rateLimits: Object.fromEntries(
      Object.entries({
        authPerIp: rateLimitSetting(e.RATE_LIMIT_AUTH_PER_IP),
        authPerEmail: rateLimitSetting(e.RATE_LIMIT_AUTH_PER_EMAIL),
        apiPerTenant: rateLimitSetting(e.RATE_LIMIT_API_PER_TENANT),
        runStartsPerTenant: rateLimitSetting(e.RATE_LIMIT_RUN_STARTS_PER_TENANT),
        webhookPerHook: rateLimitSetting(e.RATE_LIMIT_WEBHOOK_PER_HOOK),
      }).filter(([, v]) => v !== undefined),
    ),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The DEPLOY_* settings; a base image that is no image reference, a root or malformed user, or a tenant that is no id is a ConfigError. */
function parseDeploymentSettings(e: z.infer<typeof envSchema>): DeploymentSettings {
  const list = (value: string) => value.split(',').map((item) => item.trim()).filter(Boolean);
  const problems: string[] = [];
  const allowedBaseImages = list(e.DEPLOY_ALLOWED_BASE_IMAGES);
  if (allowedBaseImages.length === 0) problems.push('DEPLOY_ALLOWED_BASE_IMAGES: needs at least one image');
  for (const image of allowedBaseImages) {
    if (!IMAGE_REFERENCE.test(image) || image.length > 255) problems.push(`DEPLOY_ALLOWED_BASE_IMAGES: "${image}" is not a Docker image reference`);
  }
  const user = parseContainerUser(e.DEPLOY_CONTAINER_USER);
  if (!user) problems.push(`DEPLOY_CONTAINER_USER: "${e.DEPLOY_CONTAINER_USER}" must be uid:gid, numeric, neither of them 0 (root)`);
  const egressTenants = list(e.DEPLOY_EGRESS_TENANTS);
  for (const id of egressTenants) if (!UUID.test(id)) problems.push(`DEPLOY_EGRESS_TENANTS: "${id}" is not a tenant id (a UUID)`);
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return {
    allowedBaseImages,
    user: user ?? DEFAULT_DEPLOYMENT_SETTINGS.user,
    memoryMb: e.DEPLOY_MEMORY_MB,
    cpus: e.DEPLOY_CPUS,
    pidsLimit: e.DEPLOY_PIDS_LIMIT,
    maxRunningPerTenant: e.DEPLOY_MAX_RUNNING_PER_TENANT,
    egressTenants: new Set(egressTenants.map((id) => id.toLowerCase())),
  };
}

/** Which proxies the API believes about the client's address, in the shapes Express's `trust proxy` takes. */
export type TrustProxy = false | number | string[];

const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** TRUST_PROXY: empty or `false` trusts nobody; a number trusts that many hops; else a comma-separated list. */
export function parseTrustProxy(setting: string): TrustProxy {
  const value = setting.trim();
  if (value === '' || value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((raw) => {
    const entry = raw.trim();
    const valid = TRUST_PROXY_NAMES.has(entry) || (entry.includes('/') ? ipaddr.isValidCIDR(entry) : ipaddr.isValid(entry));
    if (!valid) throw new ConfigError(`Invalid configuration:\n  TRUST_PROXY: "${entry}" is not an IP address, a CIDR range, a hop count or one of loopback, linklocal, uniquelocal`);
    return entry;
  });
}
