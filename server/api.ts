// Assembles the API from live connections: services, routers, middleware and the WebSocket hub.
// `server/main.ts` and the integration tests build the very same app through `createApi`.
import type { DeploymentSettings } from '../core/deployment-sandbox';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { randomUUID } from 'node:crypto';
import swaggerUi from 'swagger-ui-express';
import type { DataSource, MigrationInterface } from 'typeorm';
import { AccountRepository, ApprovalRepository, ExecutionRepository, TenantScope, WorkflowRepository, type VaultKeys } from '../db';
import { Unauthorized } from '../core/errors';
import type { OutputLimits } from '../core/limits';
import { createAuthenticate, sessionMember } from './auth/authenticate';
import { createKdfQueue } from './auth/kdf-queue';
import { createLoginThrottle } from './auth/login-throttle';
import { DEFAULT_KDF_QUEUE, DEFAULT_LOGIN_THROTTLE, type KdfQueueSettings, type LoginThrottleSettings } from '../core/login-limits';
import { createSessionRevocations } from './auth/session-revocations';
import { createMemberCache, memberOf } from './auth/member-cache';
import { createInvalidationBus } from './cache/invalidation-bus';
import { createAuthRouter } from './auth/router';
import { createAuthService } from './auth/service';
import { createTokenService, DEFAULT_ACCESS_TTL_SECONDS } from './auth/tokens';
import type { Principal } from './auth/principal';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { jsonBody } from './http/json-body';
import { buildOpenApiDocument } from './openapi';
import { createApiMetrics } from './metrics';
import { executionRoutes } from './routes/executions';
import { createHealthRouter } from './routes/health';
import { workflowRoutes } from './routes/workflows';
import { createExecutionService } from './services/execution-service';
import { createApprovalService } from './services/approval-service';
import { approvalRoutes } from './routes/approvals';
import { createWorkflowService } from './services/workflow-service';
import { RunClient } from './temporal/run-client';
import type { SocketLimits } from '../core/socket-limits';
import { ExportClient } from './temporal/export-client';
import { DeploymentClient } from './temporal/deployment-client';
import { exportRoutes } from './routes/exports';
import { deploymentRoutes } from './routes/deployments';
import { createExportService } from './services/export-service';
import { createDeploymentService } from './services/deployment-service';
import { DeploymentRepository, ExportRepository } from '../db';
import { mountRoutes } from './http/route';
import { createWsHub, type WsHub } from './ws/hub';
import { ApiKeyRepository, AuditLogRepository, CredentialRepository } from '../db';
import { apiKeyRoutes } from './routes/api-keys';
import { credentialRoutes } from './routes/credentials';
import { tenantRoutes } from './routes/tenant';
import { userRoutes } from './routes/users';
import { createAuditTrail } from './security/audit-trail';
import { createRateLimiter, DEFAULT_RATE_LIMITS, rateLimited, type RateLimits } from './security/rate-limit';
import { createFinishedRuns } from './services/finished-runs';
import { createMemberService } from './services/member-service';
import { DEFAULT_TOOL_OUTBOUND, type ToolOutboundSettings, type TrustProxy } from '../core/config';
import { mcpServerRoutes } from './routes/mcp-servers';
import { createMcpServerService } from './services/mcp-server-service';
import { createMcpRouter } from './mcp/endpoint';
// Triggers (issue 12): schedules on Temporal Schedules, signed webhooks.
import { scheduleRoutes } from './routes/schedules';
import { webhookRoutes } from './routes/webhooks';
import { createHooksRouter } from './routes/hooks';
import { createScheduleService } from './services/schedule-service';
import { createTenantDeletion } from './services/tenant-deletion';
import { createWorkflowDeletion } from './services/workflow-deletion';
import { TenantWorkflows } from './temporal/tenant-workflows';
import { createWebhookService } from './services/webhook-service';
import { ScheduleClient } from './temporal/schedule-client';
// Temporal payloads (issue 14): the remote codec the Temporal UI and CLI decode with.
import { CODEC_PATH, createCodecServer } from './temporal/codec-server';
import type { TenantPayloadCodec } from '../db/temporal-payload-codec';
import { WebhookRouteRepository } from '../db/repositories/webhooks';
// Fair share between tenants (issue 12): a start takes a slot of its tenant's share or waits queued.
import { createRunAdmission, type RunAdmission } from './services/run-admission';
import { DEFAULT_RUNS_MAX_CONCURRENT_PER_TENANT } from '../core/run-admission';
// Runs and dashboard (issue 13): the analytics over a tenant's runs, tokens priced at MODEL_PRICES.
import { analyticsRoutes } from './routes/analytics';
import { createAnalyticsService } from './services/analytics-service';
import { AnalyticsRepository } from '../db/repositories/analytics';
import { DEFAULT_MODEL_PRICES, type ModelPrices } from '../core/model-prices';

export interface ApiDeps {
  /** The codec of the API's Temporal client (db/temporal-payload-codec.ts), which the codec endpoint serves. */
  payloadCodec: TenantPayloadCodec;
  /** TEMPORAL_CODEC_OPERATOR_TOKEN: the platform operator's credential for the codec endpoint; none when absent. */
  temporalCodecOperatorToken?: string;
  /** Production: the codec cookie is sent over HTTPS only. */
  production?: boolean;
  dataSource: DataSource;
  redis: Redis;
  /** A connection of its own: a Redis connection in subscriber mode can do nothing else. */
  subscriber: Redis;
  temporal: Client;
  taskQueue: string;
  namespace: string;
  temporalUiUrl: string;
  jwtSecret: string;
  tenantMigrations: MigrationInterface[];
  logger: Logger;
  corsOrigins: string[];
  /** The built web app (web/dist), served at / when present. */
  webDir?: string;
  bodyLimit?: string;
  /** Lifetime of access tokens (config ACCESS_TOKEN_TTL_SECONDS); 900 s when absent. */
  accessTokenTtlSeconds?: number;
  /** How long POST /executions/:id/cancel and /exports/:id/cancel wait for the cancellation to be recorded. */
  cancelWaitMs?: number;
  /** Largest run inputs a start accepts, as JSON bytes (config RUN_INPUTS_MAX_BYTES; DEFAULT_RUN_LIMITS when absent). */
  runInputsMaxBytes?: number;
  /** The caps on node values runs start with (RunPlan.limits; default DEFAULT_RUN_LIMITS). */
  outputLimits?: OutputLimits;
  /** How long an open run's row may show no progress before a read asks Temporal (config RUN_REPAIR_STALE_SECONDS). */
  runRepairStaleMs?: number;
  /** Code export (docs/export.md): the artifact store's data dir and the default deployment base image. */
  dataDir?: string;
  deployBaseImage?: string;
  /** Hardened deployments (config DEPLOY_*): allowed base images, container user and limits, egress, per-tenant limit; DEFAULT_DEPLOYMENT_SETTINGS when absent. */
  deployments?: DeploymentSettings;
  /** The vault's keys (config ENCRYPTION_KEY, and ENCRYPTION_KEY_PREVIOUS for what older keys sealed). */
  encryptionKey: VaultKeys;
  /** Abuse limits overriding DEFAULT_RATE_LIMITS (config RATE_LIMIT_*). */
  rateLimits?: Partial<RateLimits>;
  /** Namespace of the rate-limit counters in Redis (and of login's failure counts); tests give each stack its own. */
  rateLimitPrefix?: string;
  /** Login's delays per email and client and its ceiling per email (config LOGIN_*); DEFAULT_LOGIN_THROTTLE when absent. */
  loginThrottle?: Partial<LoginThrottleSettings>;
  /** The scrypt queue of login and sign-up (config LOGIN_KDF_*); DEFAULT_KDF_QUEUE when absent. */
  kdfQueue?: Partial<KdfQueueSettings>;
  /** How long a member's role is kept in memory between reads (config MEMBER_CACHE_SECONDS; MEMBER_CACHE_TTL_MS when absent). */
  memberCacheTtlMs?: number;
  /** Bytes of finished runs kept in memory for reads (config FINISHED_RUNS_CACHE_MB; FINISHED_RUNS_CACHE_BYTES when absent). */
  finishedRunsCacheBytes?: number;
  /** Where MCP servers' tool listings may go (config.tools: TOOL_ALLOWED_HOSTS and the like); DEFAULT_TOOL_OUTBOUND when absent. */
  toolOutbound?: ToolOutboundSettings;
  /** How long an MCP tool call waits for its run to end (config MCP_TOOL_WAIT_SECONDS; 30 s when absent). */
  mcpToolWaitMs?: number;
  /** Largest webhook delivery body, bytes (config WEBHOOK_MAX_BODY_BYTES; 1 MiB when absent). */
  webhookMaxBodyBytes?: number;
  /** Whose X-Forwarded-For sets the client address (config TRUST_PROXY; nobody's when absent). */
  trustProxy?: TrustProxy;
  /** Top-level runs of one tenant at once (config RUNS_MAX_CONCURRENT_PER_TENANT; DEFAULT_RUNS_MAX_CONCURRENT_PER_TENANT when absent). */
  runsMaxConcurrentPerTenant?: number;
  /** How often this process sweeps for queued runs with free slots and lost starts (RUN_ADMISSION_SWEEP_MS when absent). */
  runAdmissionSweepMs?: number;
  /** Nodes of one run at once, carried in each run's input (config RUN_MAX_PARALLEL_NODES; DEFAULT_RUN_MAX_PARALLEL_NODES when absent). */
  runMaxParallelNodes?: number;
  /** WebSocket sockets per user and tenant, messages per socket (config WS_*; DEFAULT_SOCKET_LIMITS when absent). */
  socketLimits?: SocketLimits;
  /** What tokens cost per model (config MODEL_PRICES; DEFAULT_MODEL_PRICES when absent). */
  modelPrices?: ModelPrices;
}

export interface Api {
  app: Express;
  /** Attaches the WebSocket hub to the listening HTTP server. */
  attachWebSocket(server: Server): WsHub;
  verifyToken(token: string): Promise<Principal>;
  /** Admission of queued runs: the composition root starts it with the process and stops it before the database goes. */
  runAdmission: Pick<RunAdmission, 'start' | 'stop'>;
  /** Releases what the API holds of its own (the MCP listing's outbound pool); the connections it was given stay open. */
  close(): Promise<void>;
}

export function createApi(deps: ApiDeps): Api {
  const { logger } = deps;
  const scope = new TenantScope(deps.dataSource);
  const accounts = new AccountRepository(deps.dataSource, deps.tenantMigrations);
  const workflowsRepo = new WorkflowRepository(scope);
  const executionsRepo = new ExecutionRepository(scope);
  const accessTtlSeconds = deps.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TTL_SECONDS;
  const tokens = createTokenService({ jwtSecret: deps.jwtSecret, accounts, accessTtlSeconds });
  const apiKeys = new ApiKeyRepository(deps.dataSource);
  const bus = createInvalidationBus({ redis: deps.redis, subscriber: deps.subscriber, onError: (err) => logger.warn({ err }, 'invalidation bus: a message was lost') });
  const sessions = createSessionRevocations({ redis: deps.redis, bus, accessTtlSeconds, onError: (err) => logger.warn({ err }, 'ended sessions: could not load them from Redis') });
  const auth = createAuthService({
    accounts,
    tokens,
    sessions,
    kdf: createKdfQueue({ ...DEFAULT_KDF_QUEUE, ...deps.kdfQueue }),
    throttle: createLoginThrottle(deps.redis, { ...DEFAULT_LOGIN_THROTTLE, ...deps.loginThrottle }, `${deps.rateLimitPrefix ?? 'tessera'}:login`),
  });
  const memberCache = createMemberCache({ accounts, bus, ...(deps.memberCacheTtlMs !== undefined ? { ttlMs: deps.memberCacheTtlMs } : {}) });
  const authenticate = createAuthenticate({ tokens, members: memberCache, apiKeys, sessions });
  const auditLog = new AuditLogRepository(scope);
  const audit = createAuditTrail({ scope, auditLog });
  const credentials = new CredentialRepository(scope, deps.encryptionKey);
  const members = createMemberService({ accounts, bus });
  const limiter = createRateLimiter(deps.redis, { ...DEFAULT_RATE_LIMITS, ...deps.rateLimits }, deps.rateLimitPrefix);
  // Login and register attempts count per IP; registrations also per email when the body names one (a malformed
  // body is refused by the route anyway). Login's failures per email are the LoginThrottle's, which spares the owner.
  const authAttemptGuard = rateLimited(limiter, 'authPerIp', (req) => req.ip ?? 'unknown');
  const registerGuard = rateLimited(limiter, 'authPerEmail', (req) => {
    const email: unknown = (req.body as { email?: unknown } | undefined)?.email;
    return typeof email === 'string' ? email.trim().toLowerCase().slice(0, 254) : null;
  });
  const runs = new RunClient(deps.temporal, deps.taskQueue, deps.runMaxParallelNodes);
  const runAdmission = createRunAdmission({
    scope,
    runs,
    maxConcurrentPerTenant: deps.runsMaxConcurrentPerTenant ?? DEFAULT_RUNS_MAX_CONCURRENT_PER_TENANT,
    tenantIds: (after, limit) => accounts.tenantIdsAfter(after, limit),
    subscriber: deps.subscriber,
    redis: deps.redis,
    logger,
    ...(deps.runAdmissionSweepMs !== undefined ? { sweepMs: deps.runAdmissionSweepMs } : {}),
  });
  const schedules = createScheduleService({ scope, workflows: workflowsRepo, client: new ScheduleClient(deps.temporal, deps.taskQueue) });
  // Deleting a workflow stops what it runs and schedules (workflowDeletion, assembled below from the services it uses).
  const workflows = createWorkflowService({ scope, workflows: workflowsRepo, bus, stopEverythingOf: (tenantId, workflowId, by) => workflowDeletion.stopEverythingOf(tenantId, workflowId, by) });
  const executions = createExecutionService({
    scope,
    workflows: workflowsRepo,
    executions: executionsRepo,
    runs,
    temporalUiUrl: deps.temporalUiUrl,
    namespace: deps.namespace,
    ...(deps.cancelWaitMs !== undefined ? { cancelWaitMs: deps.cancelWaitMs } : {}),
    ...(deps.runInputsMaxBytes !== undefined ? { runInputsMaxBytes: deps.runInputsMaxBytes } : {}),
    ...(deps.outputLimits ? { outputLimits: deps.outputLimits } : {}),
    ...(deps.runRepairStaleMs !== undefined ? { repairStaleMs: deps.runRepairStaleMs } : {}),
    admission: runAdmission,
    modelPrices: deps.modelPrices ?? DEFAULT_MODEL_PRICES,
    finishedRuns: createFinishedRuns({ bus, ...(deps.finishedRunsCacheBytes !== undefined ? { maxBytes: deps.finishedRunsCacheBytes } : {}) }),
  });

  const exportsRepo = new ExportRepository(scope);
  const deployBaseImage = deps.deployBaseImage ?? 'python:3.12-slim';
  const exportsService = createExportService({
    scope,
    workflows: workflowsRepo,
    exports: exportsRepo,
    client: new ExportClient(deps.temporal, deps.taskQueue),
    dataDir: deps.dataDir ?? '.data',
    deployBaseImage,
    ...(deps.cancelWaitMs !== undefined ? { cancelWaitMs: deps.cancelWaitMs } : {}),
  });
  const deployments = createDeploymentService({
    scope,
    workflows: workflowsRepo,
    exports: exportsRepo,
    deployments: new DeploymentRepository(scope),
    client: new DeploymentClient(deps.temporal, deps.taskQueue),
    ...(deps.deployments !== undefined ? { settings: deps.deployments } : {}),
  });

  const webhooks = createWebhookService({
    scope,
    routes: new WebhookRouteRepository(deps.dataSource),
    workflows: workflowsRepo,
    executions,
    runs,
    encryptionKey: deps.encryptionKey,
    countDelivery: async (hookId, tenantId) => {
      await limiter.hit('webhookPerHook', hookId);
      await limiter.hit('runStartsPerTenant', tenantId);
    },
    auditRejected: (tenantId, hookId, reason) => audit.record(tenantId, null, null, { action: 'webhook.signature_rejected', targetType: 'webhook', targetId: hookId, details: { reason } }),
  });

  // Complete deletion (issue 14): what a deleted workflow or tenant still runs in Temporal and Docker is stopped.
  const workflowDeletion = createWorkflowDeletion({ scope, schedules, webhooks, executions, exports: exportsService, deployments });
  const tenantDeletion = createTenantDeletion({ scope, accounts, schedules, deployments, temporal: new TenantWorkflows(deps.temporal), bus, logger });

  const approvals = createApprovalService({ scope, approvals: new ApprovalRepository(scope), executions: executionsRepo, runs });

  /** The same check as the HTTP routes: a valid token of a live session of a current member, with the role they have now. */
  async function verifyToken(token: string): Promise<Principal> {
    const claimed = tokens.verifyAccessToken(token);
    const user = await sessionMember(memberCache, sessions, claimed);
    if (!user) throw new Unauthorized('the user of this token no longer exists');
    return { ...claimed, role: user.role };
  }

  let hub: WsHub | null = null;
  const metrics = createApiMetrics(() => hub?.clientCount() ?? 0);

  const app = express();
  app.disable('x-powered-by');
  app.use(metrics.track);
  // Off unless configured: trusting loopback would let anyone on the host pick their own rate-limit key.
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = (req.headers['x-request-id'] as string | undefined)?.slice(0, 100) ?? randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customProps: (req) => ({ tenantId: (req as express.Request).user?.tenantId }),
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
      // Query strings may carry tokens (the WebSocket's ?token=) and headers carry credentials: log neither.
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url?.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          connectSrc: ["'self'", 'ws:', 'wss:'],
          imgSrc: ["'self'", 'data:'],
          styleSrc: ["'self'", "'unsafe-inline'"],
          scriptSrc: ["'self'"],
        },
      },
    }),
  );
  // Before the API's CORS: the Temporal UI's origin may call the codec with its cookie, and nothing else.
  app.use(
    CODEC_PATH,
    createCodecServer({
      codec: deps.payloadCodec,
      authenticate,
      verifyToken,
      ...(deps.temporalCodecOperatorToken ? { operatorToken: deps.temporalCodecOperatorToken } : {}),
      uiOrigin: new URL(deps.temporalUiUrl).origin,
      cookieMaxAgeSeconds: deps.accessTokenTtlSeconds ?? 900,
      secureCookie: deps.production ?? false,
    }),
  );
  app.use(cors({ origin: deps.corsOrigins.length ? deps.corsOrigins : false, credentials: false }));

  app.use(
    '/health',
    createHealthRouter({
      database: async () => {
        await deps.dataSource.query('select 1');
      },
      redis: async () => {
        await deps.redis.ping();
      },
      temporal: async () => {
        await deps.temporal.connection.workflowService.getSystemInfo({});
      },
    }),
  );

  const openapi = buildOpenApiDocument();
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use('/api/docs', swaggerUi.serve, swaggerUi.setup(openapi, { customSiteTitle: 'Tessera API' }));

  const v1 = express.Router();
  // Before the 2 MB parser: the auth router parses with its own 16 kB limit, and a body parsed once is
  // never parsed again, so mounted after, the smaller limit would never apply.
  v1.use(
    '/auth',
    createAuthRouter({
      auth,
      authenticate,
      attemptGuard: authAttemptGuard,
      registerGuard,
      onEvent: (e) => audit.record(e.tenantId, e.principal, e.req, { action: e.action, targetType: 'user', targetId: e.principal.userId }),
    }),
  );
  v1.use(jsonBody({ limit: deps.bodyLimit ?? '2mb' }));
  v1.use(authenticate);
  v1.use(rateLimited(limiter, 'apiPerTenant', (req) => req.user?.tenantId ?? null));
  // The routes server/openapi.ts documents (API_ROUTES), each with what its handlers need.
  const served = { audit, limiter, logger };
  mountRoutes(v1, workflowRoutes, { workflows }, served);
  mountRoutes(v1, executionRoutes, { executions, onStarted: (created, trigger) => metrics.runsStarted.inc({ created: String(created), trigger }) }, served);
  mountRoutes(v1, exportRoutes, { exports: exportsService }, served);
  mountRoutes(v1, deploymentRoutes, { deployments }, served);
  mountRoutes(v1, approvalRoutes, { approvals, onDecided: (decision) => metrics.approvalsDecided.inc({ decision }) }, served);
  mountRoutes(v1, userRoutes, { members, audit }, served);
  mountRoutes(v1, apiKeyRoutes, { apiKeys, audit }, served);
  mountRoutes(v1, credentialRoutes, { scope, credentials, audit }, served);
  const mcpServers = createMcpServerService({ scope, encryptionKey: deps.encryptionKey, settings: deps.toolOutbound ?? DEFAULT_TOOL_OUTBOUND });
  mountRoutes(v1, mcpServerRoutes, { scope, audit, mcpServers }, served);
  mountRoutes(v1, tenantRoutes, { scope, accounts, auditLog, tenantDeletion }, served);
  mountRoutes(v1, scheduleRoutes, { scope, schedules, audit }, served);
  mountRoutes(v1, webhookRoutes, { scope, webhooks, audit }, served);
  const analytics = createAnalyticsService({ scope, analytics: new AnalyticsRepository(scope), executions: executionsRepo, modelPrices: deps.modelPrices ?? DEFAULT_MODEL_PRICES });
  mountRoutes(v1, analyticsRoutes, { analytics }, served);
  app.use('/api/v1', v1);
  // Tessera as an MCP server (server/mcp/endpoint.ts): authenticated like /api/v1, outside its REST document.
  app.use(
    '/mcp',
    createMcpRouter({
      authenticate,
      guards: [rateLimited(limiter, 'apiPerTenant', (req) => req.user?.tenantId ?? null)],
      scope,
      workflows: workflowsRepo,
      executions,
      countRunStart: (tenantId) => limiter.hit('runStartsPerTenant', tenantId),
      ...(deps.mcpToolWaitMs !== undefined ? { waitMs: deps.mcpToolWaitMs } : {}),
    }),
  );
  app.use('/api', notFoundHandler);
  // Webhook deliveries (server/routes/hooks.ts): signed, outside /api/v1 and its parser and authenticator.
  app.use(
    '/hooks',
    createHooksRouter({
      webhooks,
      maxBodyBytes: deps.webhookMaxBodyBytes ?? 1024 * 1024,
      onDelivery: (outcome) => metrics.webhookDeliveries.inc({ outcome }),
      onStarted: () => metrics.runsStarted.inc({ created: 'true', trigger: 'webhook' }),
    }),
  );

  if (deps.webDir && existsSync(path.join(deps.webDir, 'index.html'))) {
    const webDir = path.resolve(deps.webDir);
    app.use(express.static(webDir, { index: 'index.html', maxAge: '1h' }));
    app.get(/^\/(?!api\/|health\/).*/, (_req, res) => {
      res.sendFile(path.join(webDir, 'index.html'));
    });
  } else {
    app.get('/', (_req, res) => {
      res
        .type('html')
        .send(
          '<!doctype html><meta charset="utf-8"><title>Tessera</title><h1>Tessera API</h1><p>The web app is not built yet (<code>npm run build</code>). See <a href="/api/docs">the API docs</a>.</p>',
        );
    });
  }
  app.use(notFoundHandler);
  app.use(errorHandler(logger));

  return {
    app,
    verifyToken,
    runAdmission,
    close: () => mcpServers.close(),
    attachWebSocket(server) {
      hub = createWsHub({
        server,
        path: '/api/v1/ws',
        verifyToken,
        subscriber: deps.subscriber,
        scope,
        executions: executionsRepo,
        exports: exportsRepo,
        logger,
        revocations: { bus, stillMember: async (p) => (await memberOf(memberCache, p.userId, p.tenantId)) !== null },
        ...(deps.socketLimits ? { limits: deps.socketLimits } : {}),
      });
      return hub;
    },
  };
}
