// MCP servers of a tenant (DESIGN.md §8 "MCP"): register, list, delete, and list the tools a server offers,
// asked of the server itself through the worker's own MCP tool lister (activities/tools/mcp-tool-lister.ts),
// whose requests go through the SSRF-safe outbound client like every tool call. The API imports that lister
// rather than asking the worker: listing tools is the editor waiting on one request (docs/decisions.md).
import { QueryFailedError } from 'typeorm';
import { checkAddress, isIpLiteral } from '../../core/address-policy';
import type { ToolOutboundSettings } from '../../core/config';
import { AppError, Conflict, NotFound, ValidationFailed } from '../../core/errors';
import { CredentialRepository, McpServerRepository, type McpServerRecord, type TenantScope, type VaultKeys } from '../../db';
import type { McpToolInfo } from '../../activities/tools/mcp-client';
import { createMcpToolLister } from '../../activities/tools/mcp-tool-lister';
import { ToolError } from '../../activities/tools/tool-error';
import type { McpServerView } from '../../core/api-views';
import { requireUuid } from './ids';

export type { McpServerView } from '../../core/api-views';

export interface McpServerServiceDeps {
  scope: TenantScope;
  /** The vault's secret (config ENCRYPTION_KEY): a server's credential is its bearer token. */
  encryptionKey: VaultKeys;
  /** config.tools: where MCP requests may go, how long they may take, how large an answer may be. */
  settings: ToolOutboundSettings;
}

function view(s: McpServerRecord): McpServerView {
  return { id: s.id, name: s.name, url: s.url, credentialId: s.credentialId, createdBy: s.createdBy, createdAt: s.createdAt.toISOString() };
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof QueryFailedError && (err.driverError as { code?: string } | undefined)?.code === '23505';
}

export function createMcpServerService(deps: McpServerServiceDeps) {
  const { scope } = deps;
  const servers = new McpServerRepository(scope);
  const credentials = new CredentialRepository(scope, deps.encryptionKey);
  const lister = createMcpToolLister(deps);

  return {
    async list(tenantId: string): Promise<McpServerView[]> {
      return (await scope.run(tenantId, () => servers.list())).map(view);
    },

    /** Runs inside the caller's open tenant scope (the route audits in the same transaction). */
    async register(input: { name: string; url: string; credentialId?: string; createdBy: string | null }): Promise<McpServerView> {
      refuseLiteralAddress(input.url, deps.settings);
      const credentialId = input.credentialId?.toLowerCase() ?? null;
      if (credentialId && !(await credentials.list()).some((c) => c.id === credentialId)) {
        throw new ValidationFailed(`credential ${input.credentialId} not found`, { field: 'credentialId' });
      }
      if ((await servers.list()).some((s) => s.name.toLowerCase() === input.name.toLowerCase())) {
        throw new Conflict(`an MCP server named "${input.name}" exists already`, { field: 'name' });
      }
      try {
        return view(await servers.create({ name: input.name, url: input.url, credentialId, createdBy: input.createdBy }));
      } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict(`an MCP server named "${input.name}" exists already`, { field: 'name' });
        throw err;
      }
    },

    /** Runs inside the caller's open tenant scope. */
    async remove(id: string): Promise<McpServerView> {
      const serverId = requireUuid(id, 'MCP server');
      const found = await servers.get(serverId);
      if (!found || !(await servers.remove(serverId))) throw new NotFound(`MCP server ${id} not found`);
      return view(found);
    },

    /** The server's tools, asked of it now; no connection is held while waiting (the scope closes first). */
    async tools(tenantId: string, id: string): Promise<McpToolInfo[]> {
      const serverId = requireUuid(id, 'MCP server');
      try {
        return await lister.list(tenantId, serverId);
      } catch (err) {
        throw httpError(err);
      }
    },

    /** Closes the outbound connection pool the listing keeps (on shutdown). */
    close: () => lister.close(),
  };
}

export type McpServerService = ReturnType<typeof createMcpServerService>;

/** A URL naming a refused address outright is refused at once; names are checked when they are resolved. */
function refuseLiteralAddress(url: string, settings: ToolOutboundSettings): void {
  const host = new URL(url).hostname;
  if (!isIpLiteral(host)) return;
  const verdict = checkAddress(host, host, settings.allowedHosts);
  if (!verdict.allowed) throw new AppError('OUTBOUND_REFUSED', 422, verdict.reason, { field: 'url', kind: verdict.kind });
}

/** What a failed listing answers: a missing row 404, a refused address 422, anything on the way 502. */
function httpError(err: unknown): unknown {
  if (!(err instanceof ToolError)) return err;
  switch (err.code) {
    case 'MCP_SERVER_NOT_FOUND':
      return new NotFound(err.message);
    case 'CREDENTIAL_NOT_FOUND':
      return new AppError('CREDENTIAL_NOT_FOUND', 422, err.message);
    case 'OUTBOUND_REFUSED':
      return new AppError('OUTBOUND_REFUSED', 422, err.message);
    case 'MCP_UNREACHABLE':
    case 'OUTBOUND_FAILED':
    case 'OUTBOUND_TIMEOUT':
    case 'RESPONSE_TOO_LARGE':
      return new AppError('MCP_UNREACHABLE', 502, err.message);
    default:
      return new AppError('MCP_ERROR', 502, err.message);
  }
}
