// The worker process: connects to Temporal, PostgreSQL and Redis, and runs canvas workflows and their
// activities until SIGINT/SIGTERM. The only place of the worker that reads the environment.
import { NativeConnection, Runtime } from '@temporalio/worker';
import Docker from 'dockerode';
import Redis from 'ioredis';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../core/config';
import { withStackSecrets } from '../core/stack-secrets';
import { installFaultHandlers, redactedUrl, reportClientErrors, startupStep } from '../core/process-faults';
import { createActivities, createCredentialResolver, createRedisEventPublisher, EvaluationPool } from '../activities';
import { createProviders } from '../activities/llm';
import { createToolRunners } from '../activities/tools';
import { createMcpToolLister } from '../activities/tools/mcp-tool-lister';
import { AccountRepository, createDataSource, ProgressRepository, TenantScope } from '../db';
import { TenantPayloadCodec } from '../db/temporal-payload-codec';
import { temporalConnectionOptions } from '../db/temporal-connection';
import { bundleWorkflows, createTesseraWorker } from './create-worker';
import { createWorkerMetrics } from './metrics';
import { freeLoopbackPort, startWorkerMetricsServer } from './metrics-server';

let rootLogger: Logger | null = null;

async function main(): Promise<void> {
  const config = loadConfig(withStackSecrets(process.env));
  // Its TLS files are read now: a missing one is a configuration error, not a failed connection.
  const temporalOptions = temporalConnectionOptions(config.temporal.address, config.temporal.security);
  const logger = pino({ level: config.logLevel, base: { process: 'worker' } });
  rootLogger = logger;
  // A failure no code handled is logged here with its context; the worker keeps running unless it is unsafe to.
  installFaultHandlers(process, logger, { processName: 'worker', exit: (code) => process.exit(code) });
  // Core's metrics go to a loopback port of their own, read by the worker's /metrics at each scrape; the runtime
  // must be installed before the first connection creates a default one.
  const coreMetricsAddress = `127.0.0.1:${await freeLoopbackPort()}`;
  Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: coreMetricsAddress, useSecondsForDurations: true } } } });
  const metrics = createWorkerMetrics();
  const metricsServer = await startupStep(`serve metrics on port ${config.workerMetricsPort} (WORKER_METRICS_PORT)`, () =>
    startWorkerMetricsServer({
      registry: metrics.registry,
      port: config.workerMetricsPort,
      coreMetricsUrl: `http://${coreMetricsAddress}/metrics`,
      onCoreScrapeError: (err) => logger.warn({ err }, "metrics: Temporal Core's metrics could not be read"),
    }),
  );
  logger.info({ port: metricsServer.port }, 'worker metrics listening');
  const dataSource = await startupStep(`connect to PostgreSQL at ${redactedUrl(config.databaseUrl)}`, () =>
    createDataSource(config.databaseUrl, {
      applicationName: 'tessera-worker',
      onPoolError: (err) => logger.error({ err }, 'postgres: an idle pooled connection failed; the pool replaces it'),
    }).initialize(),
  );
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  reportClientErrors(redis, 'redis', logger);
  const scope = new TenantScope(dataSource);
  const vaultKeys = { current: config.encryptionKey, previous: config.encryptionKeyPrevious };
  // Every expression and template the workflow cannot render itself is evaluated in these processes, bounded by config.limits.
  const evaluation = new EvaluationPool({
    limits: config.limits,
    onError: (err) => logger.error({ err }, 'evaluation process failed'),
    onOutput: (text, stream) => logger.warn({ stream, text: text.slice(0, 2000) }, 'evaluation process output'),
  });
  // Agents' tools: one outbound connection pool, every request checked against TOOL_ALLOWED_HOSTS.
  const tools = createToolRunners({ scope, encryptionKey: vaultKeys, settings: config.tools, evaluation });
  const mcpTools = createMcpToolLister({ scope, encryptionKey: vaultKeys, settings: config.tools });
  const activities = createActivities({
    evaluation,
    scope,
    progress: new ProgressRepository(scope),
    publisher: createRedisEventPublisher(redis, (err) => logger.warn({ err }, 'event publish failed')),
    providers: createProviders(config.providers),
    resolveCredential: createCredentialResolver(scope, vaultKeys),
    toolRunners: { http: (request) => tools.runHttpTool(request), mcp: (request) => tools.runMcpTool(request) },
    mcpTools: mcpTools.list,
    // The retention sweep's list of tenants; the worker provisions none, so it needs no tenant migrations.
    accounts: new AccountRepository(dataSource, []),
    subflowMaxDepth: config.subflowMaxDepth,
    mapMaxItems: config.mapMaxItems,
    runsMaxConcurrentPerTenant: config.runsMaxConcurrentPerTenant,
    metrics: metrics.activities,
    dataDir: config.dataDir,
    python: config.export.python,
    ...dockerEngine(logger),
  });
  const connection = await startupStep(`connect to Temporal at ${config.temporal.address}`, () => NativeConnection.connect(temporalOptions));
  const workflowBundle = config.workflowBundlePath ? { codePath: config.workflowBundlePath } : await bundleWorkflows();
  const worker = await createTesseraWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    workflowBundle,
    payloadCodec: new TenantPayloadCodec({ current: config.encryptionKey, previous: config.encryptionKeyPrevious }),
    maxConcurrentActivities: config.workerActivities.maxConcurrent,
    maxConcurrentActivitiesPerTenant: config.workerActivities.maxConcurrentPerTenant,
    metrics,
  });
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, address: config.temporal.address, limits: config.limits, activities: config.workerActivities }, 'worker started');
  // Worker.run() installs its own SIGINT/SIGTERM handling and drains in-flight tasks before it resolves. It
  // rejects when the worker itself has failed (it is shut down by then): fatal, the catch below exits non-zero.
  await worker.run().catch((err: unknown) => {
    throw new Error(`the Temporal worker failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  await connection.close();
  await metricsServer.close();
  await tools.close();
  await mcpTools.close();
  await evaluation.close();
  await dataSource.destroy();
  redis.disconnect();
  logger.info('worker stopped');
}

/**
 * dockerode reads DOCKER_HOST (or the default socket) itself; nothing connects until a deployment runs. A
 * DOCKER_HOST it refuses (or TLS files it cannot read) leaves this worker without deployments, not without
 * canvases: the deployments fail with a message pointing here.
 */
function dockerEngine(logger: Logger): { docker?: Docker } {
  try {
    return { docker: new Docker() };
  } catch (err) {
    logger.error({ err, dockerHost: process.env.DOCKER_HOST }, 'no Docker engine for deployments: dockerode refused its settings');
    return {};
  }
}

main().catch((err: unknown) => {
  // A start that cannot complete, or the Temporal worker failing, is fatal: say why and exit non-zero.
  const message = `the worker stops: ${err instanceof Error ? err.message : String(err)}`;
  if (rootLogger) rootLogger.fatal({ err }, message);
  else console.error(message);
  process.exit(1);
});
