// The API process: connects to PostgreSQL, Redis and Temporal, serves the REST API, the WebSocket hub,
// the API docs and the built web app. The only place of the API that reads the environment.
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import Redis from 'ioredis';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../core/config';
import { withStackSecrets } from '../core/stack-secrets';
import { installFaultHandlers, redactedUrl, reportClientErrors, startupStep } from '../core/process-faults';
import { createDataSource } from '../db';
import { TenantPayloadCodec, tesseraDataConverter } from '../db/temporal-payload-codec';
import { temporalConnectionOptions } from '../db/temporal-connection';
import { tenantMigrations } from '../migrations/tenant';
import { createApi } from './api';
import { createHttpServer } from './http/server';
import { ensureRetentionSchedule } from './temporal/retention-schedule';

let rootLogger: Logger | null = null;

async function main(): Promise<void> {
  const config = loadConfig(withStackSecrets(process.env));
  // Its TLS files are read now: a missing one is a configuration error, not a failed connection.
  const temporalOptions = temporalConnectionOptions(config.temporal.address, config.temporal.security);
  // Asynchronous writes (flushed on exit): a synchronous stdout write that meets a full pipe (npm start relays
  // every line, and is slow on a busy machine) sleeps the event loop until it drains, for every request logged.
  const logger = pino({ level: config.logLevel, base: { process: 'api' } }, pino.destination({ dest: 1, sync: false }));
  rootLogger = logger;
  // A failure no code handled is logged here with its context; the API keeps serving unless it is unsafe to.
  installFaultHandlers(process, logger, { processName: 'api', exit: (code) => process.exit(code) });
  const dataSource = await startupStep(`connect to PostgreSQL at ${redactedUrl(config.databaseUrl)}`, () =>
    createDataSource(config.databaseUrl, {
      applicationName: 'tessera-api',
      onPoolError: (err) => logger.error({ err }, 'postgres: an idle pooled connection failed; the pool replaces it'),
    }).initialize(),
  );
  // ioredis connects and reconnects in the background: a Redis outage fails the calls made meanwhile, not the start.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const subscriber = new Redis(config.redisUrl);
  reportClientErrors(redis, 'redis', logger);
  reportClientErrors(subscriber, 'redis subscriber', logger);
  const connection = await startupStep(`connect to Temporal at ${config.temporal.address}`, () => Connection.connect(temporalOptions));
  // Everything the API sends to Temporal is encrypted per tenant, and the codec endpoint decodes with the same keys.
  const payloadCodec = new TenantPayloadCodec({ current: config.encryptionKey, previous: config.encryptionKeyPrevious });
  const temporal = new Client({ connection, namespace: config.temporal.namespace, dataConverter: tesseraDataConverter(payloadCodec) });
  // The system schedule of the retention sweep follows this start's RETENTION_DAYS (created, updated, or deleted when off).
  const retention = await startupStep('set up the retention schedule in Temporal', () =>
    ensureRetentionSchedule(temporal, { taskQueue: config.temporal.taskQueue, retentionDays: config.retentionDays }),
  );
  logger.info({ retentionDays: config.retentionDays, schedule: retention }, config.retentionDays ? `runs that ended more than ${config.retentionDays} days ago are purged hourly` : 'runs are kept forever (RETENTION_DAYS unset)');

  const api = createApi({
    payloadCodec,
    ...(config.temporalCodecOperatorToken ? { temporalCodecOperatorToken: config.temporalCodecOperatorToken } : {}),
    production: config.production,
    dataSource,
    redis,
    subscriber,
    temporal,
    taskQueue: config.temporal.taskQueue,
    namespace: config.temporal.namespace,
    temporalUiUrl: config.temporal.uiUrl,
    jwtSecret: config.jwtSecret,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    tenantMigrations,
    logger,
    corsOrigins: config.corsOrigins,
    toolOutbound: config.tools,
    encryptionKey: { current: config.encryptionKey, previous: config.encryptionKeyPrevious },
    rateLimits: config.rateLimits,
    runInputsMaxBytes: config.limits.runInputsMaxBytes,
    outputLimits: config.limits,
    runRepairStaleMs: config.runRepairStaleMs,
    runsMaxConcurrentPerTenant: config.runsMaxConcurrentPerTenant,
    runMaxParallelNodes: config.runMaxParallelNodes,
    socketLimits: config.sockets,
    mcpToolWaitMs: config.mcpToolWaitMs,
    webhookMaxBodyBytes: config.webhookMaxBodyBytes,
    trustProxy: config.trustProxy,
    modelPrices: config.modelPrices,
    loginThrottle: config.login.throttle,
    kdfQueue: config.login.kdf,
    memberCacheTtlMs: config.memberCacheTtlMs,
    finishedRunsCacheBytes: config.finishedRunsCacheBytes,
    dataDir: config.dataDir,
    deployBaseImage: config.export.deployBaseImage,
    deployments: config.deployments,
    webDir: config.webDistDir,
  });
  const server = createHttpServer(api.app, config.http);
  const hub = api.attachWebSocket(server);
  await startupStep(`listen on port ${config.port}`, () => listen(server, config.port));
  // After start, a server 'error' (rare: the listening socket itself failed) is logged, not thrown at the process.
  server.on('error', (err) => logger.error({ err }, 'http server error'));
  logger.info({ port: config.port }, `API listening on http://localhost:${config.port}`);
  // Queued runs (fair share between tenants) start as slots free; what a restart left queued starts now.
  api.runAdmission.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await hub.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.runAdmission.stop();
      await api.close();
      await connection.close();
      subscriber.disconnect();
      redis.disconnect();
      await dataSource.destroy();
    } catch (err) {
      logger.error({ err }, 'shutdown did not finish cleanly');
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** Resolves once listening; rejects on the server's 'error' (the port is taken, not permitted). */
function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

main().catch((err: unknown) => {
  // A start that cannot complete (config, PostgreSQL, Temporal, the port) is fatal: say why, exit non-zero.
  const message = `the API cannot start: ${err instanceof Error ? err.message : String(err)}`;
  if (rootLogger) rootLogger.fatal({ err }, message);
  else console.error(message);
  process.exit(1);
});
