// The OpenAPI 3.1 document, generated from the route declarations the API is served from (server/http/route.ts)
// and their zod schemas, and the table of API routes it is built from (the isolation and bad-input tests walk
// the same table).
import { z, type ZodType } from 'zod';
import { canvasGraphSchema } from '../core/graph';
import { executionEventSchema } from '../core/events';
import { loginBodySchema, logoutBodySchema, refreshBodySchema, registerBodySchema } from './auth/router';
import type { ApiRoute } from './http/route';
import { analyticsRoutes } from './routes/analytics';
import { apiKeyRoutes } from './routes/api-keys';
import { approvalRoutes } from './routes/approvals';
import { credentialRoutes } from './routes/credentials';
import { deploymentRoutes } from './routes/deployments';
import { executionRoutes } from './routes/executions';
import { exportRoutes } from './routes/exports';
import { mcpServerRoutes } from './routes/mcp-servers';
import { scheduleRoutes } from './routes/schedules';
import { webhookRoutes } from './routes/webhooks';
import { tenantRoutes } from './routes/tenant';
import { userRoutes } from './routes/users';
import { workflowRoutes } from './routes/workflows';

export type { ApiRoute } from './http/route';

/**
 * The /auth routes, which server/auth/router.ts serves itself (with its own body limit and attempt guard,
 * before the authenticator); the route-walking test in test/api-surface.test.ts keeps the two in step.
 */
const AUTH_ROUTES: ApiRoute[] = [
  { method: 'post', path: '/auth/register', summary: 'Create a tenant and its owner', tag: 'auth', role: null, body: registerBodySchema, status: 201, response: 'The session: tokens, user and tenant' },
  { method: 'post', path: '/auth/login', summary: 'Log in', tag: 'auth', role: null, body: loginBodySchema, status: 200, response: 'The session: tokens, user and tenant' },
  { method: 'post', path: '/auth/refresh', summary: 'Rotate a refresh token', tag: 'auth', role: null, body: refreshBodySchema, status: 200, response: 'New tokens' },
  { method: 'post', path: '/auth/logout', summary: 'Revoke a session', tag: 'auth', role: 'viewer', body: logoutBodySchema, status: 204, response: 'Logged out' },
  { method: 'get', path: '/auth/me', summary: 'The caller and their tenant', tag: 'auth', role: 'viewer', status: 200, response: 'The caller, their role and their tenant' },
];

/** Every route under /api/v1, as served and as documented. */
export const API_ROUTES: readonly ApiRoute[] = [
  ...AUTH_ROUTES,
  ...workflowRoutes,
  ...executionRoutes,
  ...exportRoutes,
  ...deploymentRoutes,
  ...approvalRoutes,
  ...userRoutes,
  ...apiKeyRoutes,
  ...credentialRoutes,
  ...mcpServerRoutes,
  ...tenantRoutes,
  ...scheduleRoutes,
  ...webhookRoutes,
  ...analyticsRoutes,
];

function jsonSchema(schema: ZodType): Record<string, unknown> {
  const doc = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  // OpenAPI 3.1 embeds JSON Schema without the `$schema` dialect line.
  delete doc.$schema;
  return doc;
}

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

/** `/workflows/:id` as OpenAPI writes it: `/api/v1/workflows/{id}`. */
export function openApiPath(route: Pick<ApiRoute, 'path'>): string {
  return `/api/v1${route.path.replace(/:(\w+)/g, '{$1}')}`;
}

function parametersOf(route: ApiRoute): Record<string, unknown>[] {
  const parameters: Record<string, unknown>[] = [];
  for (const m of route.path.matchAll(/:(\w+)/g)) {
    // `:id` names a resource by its UUID; other parameters (an approval's node id) are the canvas's own names.
    parameters.push({ name: m[1], in: 'path', required: true, schema: m[1] === 'id' ? { type: 'string', format: 'uuid' } : { type: 'string' } });
  }
  if (route.query) {
    const q = jsonSchema(route.query) as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
    }
  }
  for (const h of route.headers ?? []) parameters.push({ name: h.name, in: 'header', required: false, description: h.description, schema: h.schema });
  return parameters;
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    const parameters = parametersOf(route);
    const oasPath = openApiPath(route);
    paths[oasPath] ??= {};
    paths[oasPath][route.method] = {
      summary: route.summary,
      tags: [route.tag],
      ...(route.role ? { description: `${route.description ? `${route.description} ` : ''}Needs the ${route.role} role or higher.`, security: [{ bearer: [] }, { apiKey: [] }] } : { security: [] }),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: !route.bodyOptional, content: { 'application/json': { schema: jsonSchema(route.body) } } } } : {}),
      responses: {
        [String(route.status)]: { description: route.response },
        '4XX': { description: 'Client error', content: { 'application/json': { schema: errorSchema } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera API',
      version: '1',
      description: 'Draw AI-agent workflows on a canvas and run them durably on Temporal. Events stream over WebSocket at /api/v1/ws?token=<accessToken>.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      schemas: { CanvasGraph: jsonSchema(canvasGraphSchema), ExecutionEvent: jsonSchema(executionEventSchema), Error: errorSchema },
    },
    paths,
  };
}
