// The one MCP client of Tessera: a session with a tenant-registered server over Streamable HTTP
// (@modelcontextprotocol/sdk's Client and transport), its HTTP going through the SSRF-safe outbound client,
// the server's credential sent as a bearer token. A session lives for one operation (list or call) and is
// closed after it, so no connection outlives the activity or request that needed it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { OutboundClient } from './outbound';
import { redactUrl } from './outbound';
import { ToolError } from './tool-error';

export interface McpEndpoint {
  url: string;
  /** The secret of the server's credential, sent as `Authorization: Bearer`; none when it names no credential. */
  bearerToken?: string | null;
}

/** A tool as the editor lists it and the model sees it. */
export interface McpToolInfo {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

export interface McpSessionOptions {
  outbound: OutboundClient;
  /** Each MCP request (initialize, list, call) must be answered within this. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Pages of tools/list read at most (a server with more is cut there). */
const MAX_TOOL_PAGES = 20;

const CLIENT_INFO = { name: 'tessera', version: '0.1.0' };

/** Every tool the server offers. */
export async function listMcpTools(endpoint: McpEndpoint, options: McpSessionOptions): Promise<McpToolInfo[]> {
  return withSession(endpoint, options, async (client) => {
    const tools: McpToolInfo[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const result = await client.listTools(cursor ? { cursor } : {}, requestOptions(options));
      for (const t of result.tools) {
        tools.push({ name: t.name, ...(t.title ? { title: t.title } : {}), ...(t.description ? { description: t.description } : {}), inputSchema: t.inputSchema as Record<string, unknown> });
      }
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return tools;
  });
}

/**
 * Calls one tool. The result is what a model reads best: the structured content when the tool gives one, the
 * text when every part is text, else the content parts as they came. A result the server marks as an error
 * is a ToolError (MCP_TOOL_ERROR) carrying its text, so the loop hands it back to the model as an error.
 */
export async function callMcpTool(endpoint: McpEndpoint, toolName: string, args: unknown, options: McpSessionOptions): Promise<unknown> {
  return withSession(endpoint, options, async (client) => {
    const result = await client.callTool({ name: toolName, arguments: (args ?? {}) as Record<string, unknown> }, undefined, requestOptions(options));
    const content = Array.isArray(result.content) ? (result.content as { type: string; text?: unknown }[]) : [];
    const allText = content.length > 0 && content.every((c) => c.type === 'text' && typeof c.text === 'string');
    const text = allText ? content.map((c) => c.text as string).join('\n') : null;
    if (result.isError) throw new ToolError('MCP_TOOL_ERROR', text ?? `tool ${toolName} failed`);
    if (result.structuredContent !== undefined) return result.structuredContent;
    return text ?? content;
  });
}

async function withSession<T>(endpoint: McpEndpoint, options: McpSessionOptions, use: (client: Client) => Promise<T>): Promise<T> {
  const transport = new StreamableHTTPClientTransport(new URL(endpoint.url), {
    fetch: options.outbound.fetch,
    ...(endpoint.bearerToken ? { requestInit: { headers: { authorization: `Bearer ${endpoint.bearerToken}` } } } : {}),
  });
  const client = new Client(CLIENT_INFO);
  let connected = false;
  try {
    await client.connect(transport, requestOptions(options));
    connected = true;
    return await use(client);
  } catch (err) {
    throw mcpError(err, endpoint.url, connected);
  } finally {
    await client.close().catch(() => undefined);
  }
}

function requestOptions(options: McpSessionOptions): { timeout: number; signal?: AbortSignal } {
  return { timeout: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) };
}

/**
 * What a failed session says: the policy's refusal and the tool's own error as they are; a failure to reach
 * the server or to finish the handshake as MCP_UNREACHABLE (worth retrying); any other answer as MCP_TOOL_ERROR.
 */
function mcpError(err: unknown, url: string, connected: boolean): unknown {
  const where = redactUrl(url);
  if (err instanceof ToolError) {
    if (err.code === 'OUTBOUND_FAILED' || err.code === 'OUTBOUND_TIMEOUT') return new ToolError('MCP_UNREACHABLE', `could not reach the MCP server ${where}: ${err.message}`, { cause: err });
    return err;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (!connected) return new ToolError('MCP_UNREACHABLE', `could not open an MCP session with ${where}: ${message}`, { cause: err });
  if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) return new ToolError('MCP_UNREACHABLE', `the MCP server ${where} did not answer in time: ${message}`, { cause: err });
  return new ToolError('MCP_TOOL_ERROR', `the MCP server ${where} answered with an error: ${message}`, { cause: err });
}
