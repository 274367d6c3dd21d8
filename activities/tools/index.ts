// The tools an agent's loop calls, bound to their dependencies once: `createToolRunners(deps)` gives
// `runHttpTool` and `runMcpTool` with one OutboundClient (one connection pool) behind both.
import type { ToolOutboundSettings } from '../../core/config';
import { McpServerRepository, type TenantScope, type VaultKeys } from '../../db';
import { createToolSecretResolver } from '../credentials';
import type { EvaluationPool } from '../evaluation';
import { runHttpTool, type HttpToolRequest, type HttpToolResult, type TemplateRenderer } from './http-tool';
import { runMcpTool, type McpToolRequest } from './mcp-tool';
import { createOutboundClient, type Resolver } from './outbound';
import { ToolError } from './tool-error';

export interface ToolRunnerDeps {
  scope: TenantScope;
  /** The vault's secret (config ENCRYPTION_KEY): tools send credentials' secrets. */
  encryptionKey: VaultKeys;
  /** config.tools: TOOL_ALLOWED_HOSTS, TOOL_TIMEOUT_MS, TOOL_RESPONSE_MAX_BYTES, MCP_RESPONSE_MAX_BYTES. */
  settings: ToolOutboundSettings;
  /** The worker's evaluation threads, so an http tool's templates render under the run's limits; inline without. */
  evaluation?: EvaluationPool;
  /** DNS for tests; the system resolver by default. */
  resolve?: Resolver;
}

export interface ToolRunners {
  runHttpTool(request: HttpToolRequest): Promise<HttpToolResult>;
  runMcpTool(request: McpToolRequest): Promise<unknown>;
  /** Closes the connection pool (worker shutdown, tests). */
  close(): Promise<void>;
}

export function createToolRunners(deps: ToolRunnerDeps): ToolRunners {
  const outbound = createOutboundClient(deps.settings, deps.resolve);
  const secrets = createToolSecretResolver(deps.scope, deps.encryptionKey);
  const servers = new McpServerRepository(deps.scope);
  const render = deps.evaluation ? poolRenderer(deps.evaluation) : undefined;
  return {
    runHttpTool: (request) => runHttpTool(request, { outbound, secrets, responseMaxBytes: deps.settings.responseMaxBytes, ...(render ? { render } : {}) }),
    runMcpTool: (request) => runMcpTool(request, { scope: deps.scope, servers, secrets, outbound, timeoutMs: deps.settings.timeoutMs }),
    close: () => outbound.close(),
  };
}

/** Renders in the evaluation threads (time, memory and output limits of the run apply). */
function poolRenderer(pool: EvaluationPool): TemplateRenderer {
  return async (template, scope) => {
    const outcome = await pool.evaluate({ kind: 'template', source: template }, scope, Date.now());
    if (!outcome.ok) throw new ToolError('TEMPLATE_FAILED', outcome.message);
    return outcome.json === null ? '' : String(JSON.parse(outcome.json));
  };
}

export { ToolError, type ToolErrorCode } from './tool-error';
export { createOutboundClient, OutboundClient, type OutboundPolicy, type Resolver, type SafeFetch } from './outbound';
export { listMcpTools, callMcpTool, type McpEndpoint, type McpToolInfo } from './mcp-client';
export { mcpEndpointOf, type McpToolRequest } from './mcp-tool';
export { DEFAULT_CREDENTIAL_HEADER, type HttpToolRequest, type HttpToolResult } from './http-tool';
