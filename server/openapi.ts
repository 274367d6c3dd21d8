// The OpenAPI 3.1 document, generated from the same zod schemas the routers parse with, and the table of
// API routes it is built from (the isolation tests walk the same table).
import { z, type ZodType } from 'zod';
import { canvasGraphSchema } from '../core/graph';
import { executionEventSchema } from '../core/events';
import { loginBodySchema, logoutBodySchema, refreshBodySchema, registerBodySchema } from './auth/router';
import { eventsQuery, getExecutionQuery, listExecutionsQuery, startExecutionBody } from './routes/executions';
import { createDeploymentBody, createExportBody, listExportsQuery } from './routes/exports';
import { listApprovalsQuery } from './routes/approvals';
import { decisionBodySchema } from '../core/approval';
import { createWorkflowBody, listWorkflowsQuery, updateWorkflowBody, validateBody } from './routes/workflows';
import type { Role } from '../db/entities/public';
import { addUserBody, changeUserBody } from './routes/users';
import { createApiKeyBody } from './routes/api-keys';
import { changeCredentialBody, createCredentialBody } from './routes/credentials';
import { auditLogQuery, deleteTenantBody } from './routes/tenant';

export interface ApiRoute {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path under /api/v1, e.g. `/workflows/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** The least role needed; `null` for routes open to anyone (register, login, refresh). */
  role: Role | null;
  body?: ZodType;
  query?: ZodType;
  status: number;
  /** Whether the route takes a tenant-owned id (so another tenant's id must be a 404). */
  takesId?: boolean;
}

export const API_ROUTES: ApiRoute[] = [
  { method: 'post', path: '/auth/register', summary: 'Create a tenant and its owner', tag: 'auth', role: null, body: registerBodySchema, status: 201 },
  { method: 'post', path: '/auth/login', summary: 'Log in', tag: 'auth', role: null, body: loginBodySchema, status: 200 },
  { method: 'post', path: '/auth/refresh', summary: 'Rotate a refresh token', tag: 'auth', role: null, body: refreshBodySchema, status: 200 },
  { method: 'post', path: '/auth/logout', summary: 'Revoke a session', tag: 'auth', role: 'viewer', body: logoutBodySchema, status: 204 },
  { method: 'get', path: '/auth/me', summary: 'The caller and their tenant', tag: 'auth', role: 'viewer', status: 200 },
  { method: 'post', path: '/workflows/validate', summary: 'Validate a canvas graph', tag: 'workflows', role: 'viewer', body: validateBody, status: 200 },
  { method: 'get', path: '/workflows', summary: 'List workflows', tag: 'workflows', role: 'viewer', query: listWorkflowsQuery, status: 200 },
  { method: 'post', path: '/workflows', summary: 'Create a workflow (version 1)', tag: 'workflows', role: 'editor', body: createWorkflowBody, status: 201 },
  { method: 'get', path: '/workflows/:id', summary: 'Read a workflow at its current version', tag: 'workflows', role: 'viewer', status: 200, takesId: true },
  { method: 'put', path: '/workflows/:id', summary: 'Save a new version', tag: 'workflows', role: 'editor', body: updateWorkflowBody, status: 200, takesId: true },
  { method: 'delete', path: '/workflows/:id', summary: 'Delete a workflow and its runs', tag: 'workflows', role: 'editor', status: 204, takesId: true },
  { method: 'get', path: '/workflows/:id/versions', summary: 'List saved versions', tag: 'workflows', role: 'viewer', status: 200, takesId: true },
  { method: 'post', path: '/workflows/:id/executions', summary: 'Start a run (Idempotency-Key header supported)', tag: 'executions', role: 'editor', body: startExecutionBody, status: 202, takesId: true },
  { method: 'get', path: '/executions', summary: 'List runs', tag: 'executions', role: 'viewer', query: listExecutionsQuery, status: 200 },
  { method: 'get', path: '/executions/:id', summary: 'Read a run with per-node state (from the database; ?refresh=true also asks Temporal)', tag: 'executions', role: 'viewer', query: getExecutionQuery, status: 200, takesId: true },
  { method: 'get', path: '/executions/:id/events', summary: 'Stored events after a sequence number', tag: 'executions', role: 'viewer', query: eventsQuery, status: 200, takesId: true },
  { method: 'post', path: '/executions/:id/cancel', summary: 'Cancel a run', tag: 'executions', role: 'editor', status: 202, takesId: true },
  { method: 'get', path: '/workflows/:id/exports', summary: "A workflow's exports, newest first (without build logs)", tag: 'exports', role: 'viewer', query: listExportsQuery, status: 200, takesId: true },
  { method: 'post', path: '/workflows/:id/exports', summary: 'Export a workflow version as a Python package (wheel)', tag: 'exports', role: 'editor', body: createExportBody, status: 202, takesId: true },
  { method: 'get', path: '/exports/:id', summary: 'Read an export: status, wheel, checksum, build log', tag: 'exports', role: 'viewer', status: 200, takesId: true },
  { method: 'get', path: '/exports/:id/events', summary: 'Stored export events after a sequence number', tag: 'exports', role: 'viewer', query: eventsQuery, status: 200, takesId: true },
  { method: 'get', path: '/exports/:id/download', summary: 'Download the wheel (X-Checksum-Sha256 header)', tag: 'exports', role: 'viewer', status: 200, takesId: true },
  { method: 'post', path: '/exports/:id/cancel', summary: 'Cancel an unfinished export (409 once it has finished)', tag: 'exports', role: 'editor', status: 202, takesId: true },
  { method: 'post', path: '/exports/:id/deployments', summary: 'Deploy an export in Docker (one-shot or service)', tag: 'exports', role: 'editor', body: createDeploymentBody, status: 202, takesId: true },
  { method: 'get', path: '/deployments/:id', summary: 'Read a deployment: status, outputs, logs, port', tag: 'exports', role: 'viewer', status: 200, takesId: true },
  { method: 'delete', path: '/deployments/:id', summary: 'Stop and remove a deployment', tag: 'exports', role: 'editor', status: 200, takesId: true },
  { method: 'get', path: '/approvals', summary: 'Approvals across runs (the inbox)', tag: 'approvals', role: 'viewer', query: listApprovalsQuery, status: 200 },
  { method: 'post', path: '/executions/:id/approvals/:nodeId', summary: 'Approve or reject an approval of a run', tag: 'approvals', role: 'editor', body: decisionBodySchema, status: 200, takesId: true },
  { method: 'get', path: '/users', summary: 'List the members of the tenant', tag: 'users', role: 'admin', status: 200 },
  { method: 'post', path: '/users', summary: 'Add a member (only owners add owners)', tag: 'users', role: 'admin', body: addUserBody, status: 201 },
  { method: 'patch', path: '/users/:id', summary: 'Change a member\'s role or name (only owners touch owners)', tag: 'users', role: 'admin', body: changeUserBody, status: 200, takesId: true },
  { method: 'delete', path: '/users/:id', summary: 'Remove a member; their sessions end at once', tag: 'users', role: 'admin', status: 204, takesId: true },
  { method: 'get', path: '/api-keys', summary: 'List API keys (prefix, role, last use; never the key)', tag: 'api-keys', role: 'admin', status: 200 },
  { method: 'post', path: '/api-keys', summary: 'Create an API key; the key is in this response only', tag: 'api-keys', role: 'admin', body: createApiKeyBody, status: 201 },
  { method: 'delete', path: '/api-keys/:id', summary: 'Revoke an API key', tag: 'api-keys', role: 'admin', status: 204, takesId: true },
  { method: 'get', path: '/credentials', summary: 'List provider credentials (never the secret)', tag: 'credentials', role: 'editor', status: 200 },
  { method: 'post', path: '/credentials', summary: 'Store a provider credential, encrypted', tag: 'credentials', role: 'admin', body: createCredentialBody, status: 201 },
  { method: 'patch', path: '/credentials/:id', summary: 'Rename, re-point (base URL) or rotate (new secret) a credential in place', tag: 'credentials', role: 'admin', body: changeCredentialBody, status: 200, takesId: true },
  { method: 'delete', path: '/credentials/:id', summary: 'Delete a provider credential', tag: 'credentials', role: 'admin', status: 204, takesId: true },
  { method: 'get', path: '/tenant/audit-log', summary: 'The tenant\'s audit log, newest first, filtered by action (or family), actor, target and time; nextBefore pages on', tag: 'tenant', role: 'admin', query: auditLogQuery, status: 200 },
  { method: 'delete', path: '/tenant', summary: 'Delete the tenant: its runs are terminated, its data dropped', tag: 'tenant', role: 'owner', body: deleteTenantBody, status: 204 },
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

export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    const oasPath = `/api/v1${route.path.replace(/:(\w+)/g, '{$1}')}`;
    const parameters: Record<string, unknown>[] = [];
    for (const m of route.path.matchAll(/:(\w+)/g)) {
      parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
    }
    if (route.query) {
      const q = jsonSchema(route.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
      }
    }
    if (route.path === '/workflows/:id/executions') {
      parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } });
    }
    paths[oasPath] ??= {};
    paths[oasPath][route.method] = {
      summary: route.summary,
      tags: [route.tag],
      ...(route.role ? { security: [{ bearer: [] }, { apiKey: [] }] } : { security: [] }),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } } : {}),
      responses: {
        [String(route.status)]: { description: 'OK' },
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
