// What the agent loop's model call offers of an MCP server: a tenant's server's tools, listed when the model is
// called (the plan names only the server). The server and its credential are read in the tenant's scope, the
// listing goes through the SSRF-safe outbound client, as every call of those tools does (mcp-tool.ts).
import type { ToolOutboundSettings } from '../../core/config';
import { McpServerRepository, type TenantScope, type VaultKeys } from '../../db';
import { createToolSecretResolver } from '../credentials';
import { listMcpTools, type McpToolInfo } from './mcp-client';
import { mcpEndpointOf } from './mcp-tool';
import { createOutboundClient } from './outbound';

export interface McpToolListerDeps {
  scope: TenantScope;
  encryptionKey: VaultKeys;
  settings: ToolOutboundSettings;
}

/** Lists a tenant's server's tools; used by the agent turn (the worker) and by the API's MCP servers service. */
export function createMcpToolLister(deps: McpToolListerDeps): { list(tenantId: string, serverId: string): Promise<McpToolInfo[]>; close(): Promise<void> } {
  const outbound = createOutboundClient(deps.settings);
  const secrets = createToolSecretResolver(deps.scope, deps.encryptionKey);
  const servers = new McpServerRepository(deps.scope);
  return {
    list: async (tenantId, serverId) => listMcpTools(await mcpEndpointOf(tenantId, serverId, { scope: deps.scope, servers, secrets }), { outbound, timeoutMs: deps.settings.timeoutMs }),
    close: () => outbound.close(),
  };
}
