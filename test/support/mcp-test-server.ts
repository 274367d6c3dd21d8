// An MCP server for tests, built with the SDK itself (McpServer over StreamableHTTPServerTransport, stateless:
// a server and transport per request, as the SDK's stateless example does), listening on loopback. It offers
// two tools, `add` and `shout`, and records each HTTP request's bearer token and each tool call.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface McpTestServer {
  /** The Streamable HTTP endpoint, `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** The Authorization header of every HTTP request, in order ('' when absent). */
  authorizations: string[];
  /** Every tool call: its name and arguments. */
  calls: { tool: string; args: Record<string, unknown> }[];
  close(): Promise<void>;
}

export const MCP_TEST_TOOLS = ['add', 'shout'] as const;

function buildServer(calls: McpTestServer['calls']): McpServer {
  const server = new McpServer({ name: 'tessera-test-tools', version: '1.0.0' });
  server.registerTool(
    'add',
    { title: 'Add', description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() }, outputSchema: { sum: z.number() } },
    async ({ a, b }) => {
      calls.push({ tool: 'add', args: { a, b } });
      return { content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } };
    },
  );
  server.registerTool('shout', { description: 'Answers the text in capitals', inputSchema: { text: z.string() } }, async ({ text }) => {
    calls.push({ tool: 'shout', args: { text } });
    return { content: [{ type: 'text', text: text.toUpperCase() }] };
  });
  return server;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export async function startMcpTestServer(): Promise<McpTestServer> {
  const authorizations: string[] = [];
  const calls: McpTestServer['calls'] = [];
  const http: Server = createServer((req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    if (!req.url?.startsWith('/mcp')) {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'POST') {
      // Stateless: no standalone event stream to open, no session to end.
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    void (async () => {
      const server = buildServer(calls);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      try {
        await server.connect(transport);
        await transport.handleRequest(req, res, await readJson(req));
      } catch {
        if (!res.headersSent) res.writeHead(500).end();
      }
    })();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    authorizations,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
