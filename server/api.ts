// Assembles the API from live connections: services, routers, middleware and the WebSocket hub.
// `server/main.ts` and the integration tests build the very same app through `createApi`.
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
import { AccountRepository, ExecutionRepository, TenantScope, WorkflowRepository } from '../db';
import { Unauthorized } from '../core/errors';
import { createAuthenticate } from './auth/authenticate';
import { createAuthRouter } from './auth/router';
import { createAuthService } from './auth/service';
import { createTokenService } from './auth/tokens';
import type { Principal } from './auth/principal';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { jsonBody } from './http/json-body';
import { buildOpenApiDocument } from './openapi';
import { createExecutionsRouter, createStartExecutionRouter } from './routes/executions';
import { createHealthRouter } from './routes/health';
import { createWorkflowsRouter } from './routes/workflows';
import { createExecutionService } from './services/execution-service';
import { createWorkflowService } from './services/workflow-service';
import { RunClient } from './temporal/run-client';
import { createWsHub, type WsHub } from './ws/hub';

export interface ApiDeps {
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
  /** How long POST /cancel waits for the run to record its cancellation. */
  cancelWaitMs?: number;
}

export interface Api {
  app: Express;
  /** Attaches the WebSocket hub to the listening HTTP server. */
  attachWebSocket(server: Server): WsHub;
  verifyToken(token: string): Promise<Principal>;
}

export function createApi(deps: ApiDeps): Api {
  const { logger } = deps;
  const scope = new TenantScope(deps.dataSource);
  const accounts = new AccountRepository(deps.dataSource, deps.tenantMigrations);
  const workflowsRepo = new WorkflowRepository(scope);
  const executionsRepo = new ExecutionRepository(scope);
  const tokens = createTokenService({ jwtSecret: deps.jwtSecret, accounts });
  const auth = createAuthService({ accounts, tokens });
  const authenticate = createAuthenticate({ tokens, accounts });
  const runs = new RunClient(deps.temporal, deps.taskQueue);
  const workflows = createWorkflowService({ scope, workflows: workflowsRepo });
  const executions = createExecutionService({
    scope,
    workflows: workflowsRepo,
    executions: executionsRepo,
    runs,
    temporalUiUrl: deps.temporalUiUrl,
    namespace: deps.namespace,
    ...(deps.cancelWaitMs !== undefined ? { cancelWaitMs: deps.cancelWaitMs } : {}),
  });

  /** The same check as the HTTP routes: a valid token of a user who still exists, with the role they have now. */
  async function verifyToken(token: string): Promise<Principal> {
    const claimed = tokens.verifyAccessToken(token);
    const user = await accounts.findUser(claimed.userId);
    if (!user || user.tenantId !== claimed.tenantId) throw new Unauthorized('the user of this token no longer exists');
    return { ...claimed, role: user.role };
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
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
      serializers: { req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url?.split('?')[0] }) },
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
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use('/api/docs', swaggerUi.serve, swaggerUi.setup(openapi, { customSiteTitle: 'Tessera API' }));

  const v1 = express.Router();
  v1.use(jsonBody({ limit: deps.bodyLimit ?? '2mb' }));
  v1.use('/auth', createAuthRouter({ auth, authenticate }));
  v1.use(authenticate);
  v1.use('/workflows', createStartExecutionRouter({ executions }));
  v1.use('/workflows', createWorkflowsRouter({ workflows }));
  v1.use('/executions', createExecutionsRouter({ executions }));
  app.use('/api/v1', v1);
  app.use('/api', notFoundHandler);

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
    attachWebSocket(server) {
      return createWsHub({
        server,
        path: '/api/v1/ws',
        verifyToken,
        subscriber: deps.subscriber,
        scope,
        executions: executionsRepo,
        logger,
      });
    },
  };
}
