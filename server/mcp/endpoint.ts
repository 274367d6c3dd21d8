// Tessera as an MCP server at POST /mcp (Streamable HTTP, stateless): each request is authenticated like the
// REST API (X-API-Key or a bearer token) and gets a server of its own that offers the caller's tenant's
// workflows as tools (workflow-tools.ts) and runs them (run-tool.ts). No session outlives its request.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { Router, type RequestHandler } from 'express';
import { Unauthorized } from '../../core/errors';
import type { TenantScope, WorkflowRepository } from '../../db';
import { principalOf, type Principal } from '../auth/principal';
import { jsonBody } from '../http/json-body';
import { version } from '../../package.json';
import { runWorkflowTool, RUN_RESULT_SCHEMA, type RunToolDeps } from './run-tool';
import { toolNamesOf } from './tool-names';
import { workflowToolsOf, type WorkflowAsTool } from './workflow-tools';

export interface McpEndpointDeps extends RunToolDeps {
  authenticate: RequestHandler;
  /** Run after authentication, before the body is read (the API's per-tenant rate limit). */
  guards?: RequestHandler[];
  scope: TenantScope;
  workflows: WorkflowRepository;
  bodyLimit?: string;
}

function toolsOf(deps: McpEndpointDeps, tenantId: string): Promise<WorkflowAsTool[]> {
  return deps.scope.run(tenantId, async () => workflowToolsOf(await deps.workflows.listWithCurrentGraph()));
}

/** The MCP server one request talks to: it knows only the caller's tenant. */
function serverFor(deps: McpEndpointDeps, principal: Principal): Server {
  const server = new Server(
    { name: 'tessera', title: 'Tessera workflows', version },
    {
      capabilities: { tools: {} },
      instructions: 'Each tool runs one Tessera workflow with its trigger inputs and returns the run outputs. A run that waits on a human approval returns its execution id instead.',
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: (await toolsOf(deps, principal.tenantId)).map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: t.inputSchema,
      outputSchema: RUN_RESULT_SCHEMA,
      annotations: { title: t.title, readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    // Names only: a call needs the workflow a name stands for, not every graph of the tenant.
    const names = await deps.scope.run(principal.tenantId, () => deps.workflows.listNames());
    const workflowId = toolNamesOf(names).get(request.params.name);
    if (!workflowId) throw new McpError(ErrorCode.InvalidParams, `unknown tool "${request.params.name}": tools/list names this tenant's workflows`);
    return runWorkflowTool(deps, principal, workflowId, request.params.arguments ?? {}, extra.signal);
  });
  return server;
}

/** The API's authentication; a refusal also names the scheme, as HTTP (and MCP's authorization spec) expect of a 401. */
function authenticateNamingScheme(authenticate: RequestHandler): RequestHandler {
  return (req, res, next) => {
    authenticate(req, res, (err?: unknown) => {
      if (err instanceof Unauthorized) res.set('WWW-Authenticate', 'Bearer realm="tessera"');
      next(err);
    });
  };
}

const methodNotAllowed: RequestHandler = (_req, res) => {
  // Stateless: there is no session to stream to (GET) or to end (DELETE).
  res.status(405).set('Allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'this MCP endpoint is stateless: send every message with POST' }, id: null });
};

export function createMcpRouter(deps: McpEndpointDeps): Router {
  const router = Router();
  router.post('/', authenticateNamingScheme(deps.authenticate), ...(deps.guards ?? []), ...jsonBody({ limit: deps.bodyLimit ?? '1mb' }), async (req, res) => {
    const server = serverFor(deps, principalOf(req));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  router.all('/', methodNotAllowed);
  return router;
}
