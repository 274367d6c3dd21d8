// The API process: connects to PostgreSQL, Redis and Temporal, serves the REST API, the WebSocket hub,
// the API docs and the built web app. The only place of the API that reads the environment.
import { Client, Connection } from '@temporalio/client';
import Redis from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../core/config';
import { createDataSource } from '../db';
import { tenantMigrations } from '../migrations/tenant';
import { createApi } from './api';
import { createHttpServer } from './http/server';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = pino({ level: config.logLevel, base: { process: 'api' } });
  const dataSource = await createDataSource(config.databaseUrl, { applicationName: 'tessera-api' }).initialize();
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const subscriber = new Redis(config.redisUrl);
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });

  const api = createApi({
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
    encryptionKey: config.encryptionKey,
    rateLimits: config.rateLimits,
    runInputsMaxBytes: config.limits.runInputsMaxBytes,
    dataDir: config.dataDir,
    deployBaseImage: config.export.deployBaseImage,
    webDir: config.webDistDir,
  });
  const server = createHttpServer(api.app, config.http);
  const hub = api.attachWebSocket(server);
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  logger.info({ port: config.port }, `API listening on http://localhost:${config.port}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await hub.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await connection.close();
    subscriber.disconnect();
    redis.disconnect();
    await dataSource.destroy();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
