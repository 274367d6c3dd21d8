// The whole Tessera stack for an integration suite: a throwaway database, Redis, the shared Temporal dev
// server, an in-process worker on a task queue of its own and the API listening on a free port.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkflowBundleOption } from '@temporalio/worker';
import Redis from 'ioredis';
import pino from 'pino';
import { createActivities, createRedisEventPublisher } from '../../activities';
import { createProviders } from '../../activities/llm';
import { ProgressRepository, TenantScope } from '../../db';
import { tenantMigrations } from '../../migrations/tenant';
import { createApi } from '../../server/api';
import type { WsHub } from '../../server/ws/hub';
import { bundleWorkflows, createTesseraWorker } from '../../worker/create-worker';
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
  baseUrl: string;
  wsUrl: string;
  taskQueue: string;
  temporal: Client;
  workflowBundle: WorkflowBundleOption;
  redis: Redis;
  request<T = any>(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

let bundlePromise: Promise<WorkflowBundleOption> | null = null;
/** Bundling takes seconds: once per test file (Jest gives each file its own module registry). */
export function sharedWorkflowBundle(): Promise<WorkflowBundleOption> {
  bundlePromise ??= bundleWorkflows();
  return bundlePromise;
}

export async function startTestStack(opts: { providers?: ProviderSettings; worker?: boolean; cancelWaitMs?: number } = {}): Promise<TestStack> {
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const taskQueue = `tessera-test-${randomBytes(4).toString('hex')}`;
  const db = await createTestDatabase();
  const redis = new Redis(TEST_REDIS_URL);
  const subscriber = new Redis(TEST_REDIS_URL);
  const workerRedis = new Redis(TEST_REDIS_URL);
  const connection = await Connection.connect({ address: testTemporalAddress() });
  const temporal = new Client({ connection, namespace: 'default' });
  const workflowBundle = await sharedWorkflowBundle();

  const api = createApi({
    dataSource: db.dataSource,
    redis,
    subscriber,
    temporal,
    taskQueue,
    namespace: 'default',
    temporalUiUrl: 'http://localhost:8233',
    jwtSecret: 'test-secret-test-secret-test-secret',
    tenantMigrations,
    logger,
    corsOrigins: [],
    ...(opts.cancelWaitMs !== undefined ? { cancelWaitMs: opts.cancelWaitMs } : {}),
  });
  const server: Server = createServer(api.app);
  const hub: WsHub = api.attachWebSocket(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  let worker: Worker | null = null;
  let workerRun: Promise<void> | null = null;
  let nativeConnection: NativeConnection | null = null;
  const scope = new TenantScope(db.dataSource);
  const activities = createActivities({
    scope,
    progress: new ProgressRepository(scope),
    publisher: createRedisEventPublisher(workerRedis, () => undefined),
    providers: createProviders(opts.providers ?? { openai: {}, anthropic: {} }),
  });

  const stack: TestStack = {
    db,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/api/v1/ws`,
    taskQueue,
    temporal,
    workflowBundle,
    redis,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      }
      const res = await fetch(`${stack.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed as any, headers: res.headers };
    },
    async startWorker() {
      if (worker) return;
      nativeConnection = await NativeConnection.connect({ address: testTemporalAddress() });
      worker = await createTesseraWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        activities,
        workflowBundle,
        shutdownGraceTime: '2 seconds',
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
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
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
