// The worker process: connects to Temporal, PostgreSQL and Redis, and runs canvas workflows and their
// activities until SIGINT/SIGTERM. The only place of the worker that reads the environment.
import { NativeConnection } from '@temporalio/worker';
import Docker from 'dockerode';
import Redis from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../core/config';
import { createActivities, createCredentialResolver, createRedisEventPublisher, EvaluationPool } from '../activities';
import { createProviders } from '../activities/llm';
import { createDataSource, ProgressRepository, TenantScope } from '../db';
import { bundleWorkflows, createTesseraWorker } from './create-worker';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = pino({ level: config.logLevel, base: { process: 'worker' } });
  const dataSource = await createDataSource(config.databaseUrl, { applicationName: 'tessera-worker' }).initialize();
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const scope = new TenantScope(dataSource);
  // Every expression and template of a run is evaluated in these threads, bounded by config.limits.
  const evaluation = new EvaluationPool({ limits: config.limits, onError: (err) => logger.error({ err }, 'evaluation thread failed') });
  const activities = createActivities({
    evaluation,
    scope,
    progress: new ProgressRepository(scope),
    publisher: createRedisEventPublisher(redis, (err) => logger.warn({ err }, 'event publish failed')),
    providers: createProviders(config.providers),
    resolveCredential: createCredentialResolver(scope, config.encryptionKey),
    dataDir: config.dataDir,
    python: config.export.python,
    // dockerode reads DOCKER_HOST (or the default socket) itself; nothing connects until a deployment runs.
    docker: new Docker(),
  });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const workflowBundle = config.workflowBundlePath ? { codePath: config.workflowBundlePath } : await bundleWorkflows();
  const worker = await createTesseraWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    workflowBundle,
  });
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, address: config.temporal.address, limits: config.limits }, 'worker started');
  // Worker.run() installs its own SIGINT/SIGTERM handling and drains in-flight tasks before it resolves.
  await worker.run();
  await connection.close();
  await evaluation.close();
  await dataSource.destroy();
  redis.disconnect();
  logger.info('worker stopped');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
