// The whole Tessera stack for an integration suite: a throwaway database, Redis, the shared Temporal dev
// server, an in-process worker on a task queue of its own and the API listening on a free port.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Express } from 'express';
import { DEFAULT_DEPLOYMENT_SETTINGS, type DeploymentSettings } from '../../core/deployment-sandbox';
import type Docker from 'dockerode';
import Redis from 'ioredis';
import pino, { type DestinationStream } from 'pino';
import type { RateLimits } from '../../server/security/rate-limit';
import { createActivities, createCredentialResolver, createRedisEventPublisher, EvaluationPool } from '../../activities';
import { DEFAULT_RUN_LIMITS, type RunLimits } from '../../core/limits';
import { createProviders } from '../../activities/llm';
import { createToolRunners } from '../../activities/tools';
import { createMcpToolLister } from '../../activities/tools/mcp-tool-lister';
import { AccountRepository, ProgressRepository, TenantScope } from '../../db';
import type { TemporalConnectionOptions } from '../../db/temporal-connection';
import { tenantMigrations } from '../../migrations/tenant';
import { createApi, type Api, type ApiDeps } from '../../server/api';
import { DEFAULT_TOOL_OUTBOUND, type TrustProxy } from '../../core/config';
import type { ModelPrices } from '../../core/model-prices';
import { parseAllowedHosts } from '../../core/address-policy';
import type { WsHub } from '../../server/ws/hub';
import { bundleWorkflows, createTesseraWorker } from '../../worker/create-worker';
import { TenantPayloadCodec, tesseraDataConverter } from '../../db/temporal-payload-codec';
import { createTestDatabase, type TestDatabase } from './database';
import { testTemporalAddress } from './temporal';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ProviderSettings {
  openai: { apiKey?: string; baseURL?: string };
  anthropic: { apiKey?: string; baseURL?: string };
}

// `any` at the JSON boundary: tests read response bodies loosely and assert on the fields they care about.
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestStack {
  db: TestDatabase;
  /** The Express app itself, for tests that walk its routes. */
  app: Express;
  baseUrl: string;
  wsUrl: string;
  taskQueue: string;
  temporal: Client;
  workflowBundle: WorkflowBundleOption;
  /** The stack's Temporal payload codec (TEST_ENCRYPTION_KEY), for replaying and reading its histories. */
  payloadCodec: TenantPayloadCodec;
  redis: Redis;
  request<T = any>(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** The API's admission of queued runs (started with the stack): a test stops it to play an API that is down. */
  runAdmission: Api['runAdmission'];
  close(): Promise<void>;
}

/** What talking to an API takes: a test stack is one, and so is an API process a test starts itself. */
export type ApiClient = Pick<TestStack, 'request'>;

/** JSON requests to the API at `baseUrl`; bodies that are not JSON stay text. */
export function apiClient(baseUrl: string): ApiClient {
  return {
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      }
      const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed as any, headers: res.headers };
    },
  };
}

let bundlePromise: Promise<WorkflowBundleOption> | null = null;
/** Bundling takes seconds: once per test file (Jest gives each file its own module registry). */
export function sharedWorkflowBundle(): Promise<WorkflowBundleOption> {
  bundlePromise ??= bundleWorkflows();
  return bundlePromise;
}

export interface TestStackOptions {
  providers?: ProviderSettings;
  worker?: boolean;
  cancelWaitMs?: number;
  /** How long an open run's row may show no progress before GET /executions/:id asks Temporal (API default 30 s). */
  runRepairStaleMs?: number;
  accessTokenTtlSeconds?: number;
  corsOrigins?: string[];
  rateLimits?: Partial<RateLimits>;
  bodyLimit?: string;
  /** TRUST_PROXY of the API, parsed (default: nobody's X-Forwarded-For is believed). */
  trustProxy?: TrustProxy;
  /** Where the API's and the worker's log lines go (by default nowhere), e.g. to search them for secrets. */
  logStream?: DestinationStream;
  /** A built web app (web/dist) for the API to serve at /, for the browser tests. */
  webDir?: string;
  /** Code export: the artifact store's data dir (shared by API and worker), the build Python, a Docker engine. */
  dataDir?: string;
  exportPython?: string;
  docker?: Docker;
  /** How the API's client and the worker connect to Temporal (db/temporal-connection.ts); default: the test dev server, plain. */
  temporalConnection?: TemporalConnectionOptions;
  /** DEPLOY_* of the API (defaults: DEFAULT_DEPLOYMENT_SETTINGS); egressTenants may be a Set the test fills once its tenants exist. */
  deployments?: Partial<DeploymentSettings>;
  /** Evaluation and size limits of the worker and the API (defaults: DEFAULT_RUN_LIMITS, as an unset environment). */
  limits?: Partial<RunLimits>;
  /** TOOL_ALLOWED_HOSTS of the API (and the worker's tools): tests list 127.0.0.1 to reach their local servers. */
  toolAllowedHosts?: string;
  /** RUNS_MAX_CONCURRENT_PER_TENANT of the API and the worker (default 20), and how often the API's admission sweeps (default 2 s). */
  runsMaxConcurrentPerTenant?: number;
  runAdmissionSweepMs?: number;
  /** RUN_MAX_PARALLEL_NODES of the API (default 20). */
  runMaxParallelNodes?: number;
  /** WORKER_MAX_CONCURRENT_ACTIVITIES and TENANT_MAX_CONCURRENT_ACTIVITIES of the worker (defaults 1000 and 50). */
  workerActivities?: { maxConcurrent?: number; maxConcurrentPerTenant?: number };
  /** TEMPORAL_CODEC_OPERATOR_TOKEN of the API (default: no operator credential). */
  temporalCodecOperatorToken?: string;
  /** MODEL_PRICES of the API, parsed (default: DEFAULT_MODEL_PRICES). */
  modelPrices?: ModelPrices;
}

/** The JWT secret of test stacks, for tests that forge or age tokens. */
export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret';

/** The vault key of test stacks: the worker decrypts with the same one the API encrypted with. */
export const TEST_ENCRYPTION_KEY = 'test-encryption-key-test-encryption-key';

export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const logger = opts.logStream ? pino({ level: 'trace' }, opts.logStream) : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const taskQueue = `tessera-test-${randomBytes(4).toString('hex')}`;
  const db = await createTestDatabase();
  const redis = new Redis(TEST_REDIS_URL);
  const subscriber = new Redis(TEST_REDIS_URL);
  const workerRedis = new Redis(TEST_REDIS_URL);
  const temporalConnection = opts.temporalConnection ?? { address: testTemporalAddress() };
  const connection = await Connection.connect(temporalConnection);
  const payloadCodec = new TenantPayloadCodec({ current: TEST_ENCRYPTION_KEY });
  const temporal = new Client({ connection, namespace: 'default', dataConverter: tesseraDataConverter(payloadCodec) });
  const workflowBundle = await sharedWorkflowBundle();

  const api = createApi({
    payloadCodec,
    ...(opts.temporalCodecOperatorToken ? { temporalCodecOperatorToken: opts.temporalCodecOperatorToken } : {}),
    dataSource: db.dataSource,
    redis,
    subscriber,
    temporal,
    taskQueue,
    namespace: 'default',
    temporalUiUrl: 'http://localhost:8233',
    jwtSecret: TEST_JWT_SECRET,
    tenantMigrations,
    logger,
    corsOrigins: opts.corsOrigins ?? [],
    encryptionKey: TEST_ENCRYPTION_KEY,
    rateLimitPrefix: `tessera-test:${taskQueue}:rl`,
    ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
    ...(opts.bodyLimit ? { bodyLimit: opts.bodyLimit } : {}),
    ...(opts.trustProxy !== undefined ? { trustProxy: opts.trustProxy } : {}),
    ...(opts.cancelWaitMs !== undefined ? { cancelWaitMs: opts.cancelWaitMs } : {}),
    ...(opts.runMaxParallelNodes !== undefined ? { runMaxParallelNodes: opts.runMaxParallelNodes } : {}),
    ...(opts.runRepairStaleMs !== undefined ? { runRepairStaleMs: opts.runRepairStaleMs } : {}),
    ...(opts.limits?.runInputsMaxBytes !== undefined ? { runInputsMaxBytes: opts.limits.runInputsMaxBytes } : {}),
    ...(opts.limits ? { outputLimits: { ...DEFAULT_RUN_LIMITS, ...opts.limits } } : {}),
    ...(opts.accessTokenTtlSeconds !== undefined ? { accessTokenTtlSeconds: opts.accessTokenTtlSeconds } : {}),
    ...(opts.webDir !== undefined ? { webDir: opts.webDir } : {}),
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
    ...(opts.deployments !== undefined ? { deployments: { ...DEFAULT_DEPLOYMENT_SETTINGS, ...opts.deployments } } : {}),
    ...(opts.toolAllowedHosts !== undefined ? { toolOutbound: { ...DEFAULT_TOOL_OUTBOUND, allowedHosts: parseAllowedHosts(opts.toolAllowedHosts) } } : {}),
    ...(opts.runsMaxConcurrentPerTenant !== undefined ? { runsMaxConcurrentPerTenant: opts.runsMaxConcurrentPerTenant } : {}),
    ...(opts.runAdmissionSweepMs !== undefined ? { runAdmissionSweepMs: opts.runAdmissionSweepMs } : {}),
    ...(opts.modelPrices !== undefined ? { modelPrices: opts.modelPrices } : {}),
  });
  api.runAdmission.start();
  const server: Server = createServer(api.app);
  const hub: WsHub = api.attachWebSocket(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  let worker: Worker | null = null;
  let workerRun: Promise<void> | null = null;
  let nativeConnection: NativeConnection | null = null;
  const scope = new TenantScope(db.dataSource);
  const evaluation = new EvaluationPool({ ...(opts.limits ? { limits: opts.limits } : {}), onError: (err) => logger.error({ err }, 'evaluation process failed') });
  const toolSettings = { ...DEFAULT_TOOL_OUTBOUND, ...(opts.toolAllowedHosts !== undefined ? { allowedHosts: parseAllowedHosts(opts.toolAllowedHosts) } : {}) };
  const tools = createToolRunners({ scope, encryptionKey: TEST_ENCRYPTION_KEY, settings: toolSettings, evaluation });
  const mcpTools = createMcpToolLister({ scope, encryptionKey: TEST_ENCRYPTION_KEY, settings: toolSettings });
  const activities = createActivities({
    evaluation,
    scope,
    progress: new ProgressRepository(scope),
    publisher: createRedisEventPublisher(workerRedis, () => undefined),
    providers: createProviders(opts.providers ?? { openai: {}, anthropic: {} }),
    resolveCredential: createCredentialResolver(scope, TEST_ENCRYPTION_KEY),
    toolRunners: { http: (request) => tools.runHttpTool(request), mcp: (request) => tools.runMcpTool(request) },
    mcpTools: mcpTools.list,
    accounts: new AccountRepository(db.dataSource, tenantMigrations),
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
    ...(opts.exportPython !== undefined ? { python: opts.exportPython } : {}),
    ...(opts.docker !== undefined ? { docker: opts.docker } : {}),
    ...(opts.runsMaxConcurrentPerTenant !== undefined ? { runsMaxConcurrentPerTenant: opts.runsMaxConcurrentPerTenant } : {}),
  });

  const stack: TestStack = {
    db,
    app: api.app,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/api/v1/ws`,
    taskQueue,
    temporal,
    workflowBundle,
    payloadCodec,
    redis,
    request: apiClient(`http://127.0.0.1:${port}`).request,
    runAdmission: api.runAdmission,
    async startWorker() {
      if (worker) return;
      nativeConnection = await NativeConnection.connect(temporalConnection);
      worker = await createTesseraWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        activities,
        workflowBundle,
        payloadCodec,
        shutdownGraceTime: '2 seconds',
        ...(opts.workerActivities?.maxConcurrent !== undefined ? { maxConcurrentActivities: opts.workerActivities.maxConcurrent } : {}),
        ...(opts.workerActivities?.maxConcurrentPerTenant !== undefined ? { maxConcurrentActivitiesPerTenant: opts.workerActivities.maxConcurrentPerTenant } : {}),
      });
      workerRun = worker.run();
    },
    async stopWorker() {
      if (!worker) return;
      worker.shutdown();
      await workerRun;
      await nativeConnection?.close();
      worker = null;
      workerRun = null;
      nativeConnection = null;
    },
    async close() {
      await stack.stopWorker();
      await tools.close();
      await mcpTools.close();
      await evaluation.close();
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.runAdmission.stop();
      await api.close();
      await connection.close();
      redis.disconnect();
      subscriber.disconnect();
      workerRedis.disconnect();
      await db.drop();
    },
  };
  if (opts.worker !== false) await stack.startWorker();
  return stack;
}

/** A second API process's app on a stack's database, Redis and Temporal (another API process, or the same one after a restart). */
export async function startSecondApi(stack: TestStack, overrides: Partial<ApiDeps> = {}): Promise<{ api: ApiClient; wsUrl: string; close(): Promise<void> }> {
  const redis = new Redis(TEST_REDIS_URL);
  const subscriber = new Redis(TEST_REDIS_URL);
  const app = createApi({
    payloadCodec: stack.payloadCodec,
    dataSource: stack.db.dataSource,
    redis,
    subscriber,
    temporal: stack.temporal,
    taskQueue: stack.taskQueue,
    namespace: 'default',
    temporalUiUrl: 'http://localhost:8233',
    jwtSecret: TEST_JWT_SECRET,
    tenantMigrations,
    logger: pino({ level: 'silent' }),
    corsOrigins: [],
    encryptionKey: TEST_ENCRYPTION_KEY,
    rateLimitPrefix: `tessera-test:${stack.taskQueue}:rl2`,
    ...overrides,
  });
  app.runAdmission.start();
  const server: Server = createServer(app.app);
  const hub = app.attachWebSocket(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    api: apiClient(`http://127.0.0.1:${port}`),
    wsUrl: `ws://127.0.0.1:${port}/api/v1/ws`,
    async close() {
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.runAdmission.stop();
      await app.close();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
