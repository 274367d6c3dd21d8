// The `mcp` tool of an agent (DESIGN.md §8): calls one tool of a tenant-registered MCP server. The server's
// row and its credential are read in the tenant's scope, so another tenant's server id is simply not found.
import { isUuid } from '../../core/ids';
import type { McpServerRepository, TenantScope } from '../../db';
import type { ToolSecretResolver } from '../credentials';
import { callMcpTool, type McpEndpoint } from './mcp-client';
import type { OutboundClient } from './outbound';
import { ToolError } from './tool-error';

export interface McpToolRequest {
  tenantId: string;
  serverId: string;
  toolName: string;
  /** The model's arguments, already checked against the tool's input schema. */
  args: unknown;
  /** Aborts the call (the activity's cancellation signal). */
  signal?: AbortSignal;
}

export interface McpToolDeps {
  scope: TenantScope;
  servers: McpServerRepository;
  secrets: ToolSecretResolver;
  outbound: OutboundClient;
  /** Each MCP request must be answered within this (config TOOL_TIMEOUT_MS). */
  timeoutMs: number;
}

export async function runMcpTool(request: McpToolRequest, deps: McpToolDeps): Promise<unknown> {
  const endpoint = await mcpEndpointOf(request.tenantId, request.serverId, deps);
  return callMcpTool(endpoint, request.toolName, request.args, { outbound: deps.outbound, timeoutMs: deps.timeoutMs, ...(request.signal ? { signal: request.signal } : {}) });
}

/** The URL and bearer token of a tenant's MCP server; ToolError when either is missing. */
export async function mcpEndpointOf(tenantId: string, serverId: string, deps: Pick<McpToolDeps, 'scope' | 'servers' | 'secrets'>): Promise<McpEndpoint> {
  const server = isUuid(serverId) ? await deps.scope.run(tenantId, () => deps.servers.get(serverId.toLowerCase())) : null;
  if (!server) throw new ToolError('MCP_SERVER_NOT_FOUND', `MCP server ${serverId} not found`);
  if (!server.credentialId) return { url: server.url };
  const secret = await deps.secrets(tenantId, server.credentialId);
  if (secret === null) throw new ToolError('CREDENTIAL_NOT_FOUND', `MCP server ${server.name} names credential ${server.credentialId}, which this tenant no longer has`);
  return { url: server.url, bearerToken: secret };
}

