// /api/v1/mcp-servers: the MCP servers (Streamable HTTP) a tenant's agents may call tools of. Editors list
// them and their tools to configure agents; admins register and delete them, as they do credentials, since
// the worker sends a credential's secret to the URL given here. Audited. Each route is declared once
// (server/http/route.ts), for serving and for the OpenAPI document.
import { z } from 'zod';
import type { TenantScope } from '../../db';
import { principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import type { AuditTrail } from '../security/audit-trail';
import type { McpServerService } from '../services/mcp-server-service';

export const createMcpServerBody = z.strictObject({
  name: z.string().trim().min(1, 'an MCP server needs a name').max(100),
  url: z.url({ protocol: /^https?$/, error: 'the URL must be an http:// or https:// URL' }).max(2000),
  credentialId: z.uuid('credentialId must be the id of a credential').optional(),
});

const route = routeFor<{ scope: TenantScope; mcpServers: McpServerService; audit: AuditTrail }>();

export const mcpServerRoutes = [
  route({
    method: 'get',
    path: '/mcp-servers',
    summary: "List the tenant's MCP servers (never a credential's secret)",
    tag: 'mcp-servers',
    role: 'editor',
    status: 200,
    response: "The tenant's MCP servers",
    handle: async ({ mcpServers }, { req }) => ({ mcpServers: await mcpServers.list(principalOf(req).tenantId) }),
  }),
  route({
    method: 'post',
    path: '/mcp-servers',
    summary: 'Register an MCP server (Streamable HTTP) whose tools agents may call',
    tag: 'mcp-servers',
    role: 'admin',
    body: createMcpServerBody,
    status: 201,
    response: 'The MCP server',
    handle: ({ scope, mcpServers, audit }, { req, body }) => {
      const p = principalOf(req);
      return scope.run(p.tenantId, async () => {
        const s = await mcpServers.register({ ...body, createdBy: p.kind === 'api_key' ? null : p.userId });
        await audit.record(p.tenantId, p, req, {
          action: 'mcp_server.create',
          targetType: 'mcp_server',
          targetId: s.id,
          details: { name: s.name, url: s.url, ...(s.credentialId ? { credentialId: s.credentialId } : {}) },
        });
        return s;
      });
    },
  }),
  route({
    method: 'get',
    path: '/mcp-servers/:id/tools',
    summary: 'The tools an MCP server offers, asked of it now',
    tag: 'mcp-servers',
    role: 'editor',
    status: 200,
    response: "The server's tools with their input schemas",
    takesId: true,
    handle: async ({ mcpServers }, { req, id }) => ({ tools: await mcpServers.tools(principalOf(req).tenantId, id) }),
  }),
  route({
    method: 'delete',
    path: '/mcp-servers/:id',
    summary: 'Delete an MCP server',
    tag: 'mcp-servers',
    role: 'admin',
    status: 204,
    response: 'Deleted',
    takesId: true,
    handle: async ({ scope, mcpServers, audit }, { req, id }) => {
      const p = principalOf(req);
      await scope.run(p.tenantId, async () => {
        const removed = await mcpServers.remove(id);
        await audit.record(p.tenantId, p, req, { action: 'mcp_server.delete', targetType: 'mcp_server', targetId: removed.id, details: { name: removed.name } });
      });
    },
  }),
];
