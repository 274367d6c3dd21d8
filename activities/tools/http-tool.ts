// The `http` tool of an agent (DESIGN.md §8): renders the tool's url, headers and body over
// `{inputs, nodes, args}`, adds the credential's secret as a header, sends the request through the
// SSRF-safe outbound client and answers `{status, body}` (JSON parsed when the answer is JSON; the body cut
// at TOOL_RESPONSE_MAX_BYTES and marked truncated). The secret lives only in this call's memory: it is in no
// result, no error message and no log line.
import type { HttpTool } from '../../core/graph';
import { renderTemplate, type TemplateScope } from '../../core/template';
import type { ToolSecretResolver } from '../credentials';
import type { OutboundClient } from './outbound';
import { ToolError } from './tool-error';

export interface HttpToolRequest {
  tenantId: string;
  tool: HttpTool;
  /** The model's arguments, already checked against the tool's `parameters`. */
  args: unknown;
  scope: TemplateScope;
  /** Aborts the request (the activity's cancellation signal): a cancelled call does not wait for its timeout. */
  signal?: AbortSignal;
}

export interface HttpToolResult {
  status: number;
  body: unknown;
  truncated?: boolean;
}

/** Renders one template over `{inputs, nodes, args}`; the worker passes one that renders in its evaluation threads. */
export type TemplateRenderer = (template: string, scope: TemplateScope & { args: unknown }) => Promise<string>;

export interface HttpToolDeps {
  outbound: OutboundClient;
  secrets: ToolSecretResolver;
  /** Bytes of the answer kept (config TOOL_RESPONSE_MAX_BYTES). */
  responseMaxBytes: number;
  /** Default: core/template.ts in this thread. */
  render?: TemplateRenderer;
}

/** Where the credential goes when the tool names no header of its own. */
export const DEFAULT_CREDENTIAL_HEADER = 'authorization';

const renderInline: TemplateRenderer = async (template, scope) => renderTemplate(template, scope);

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function runHttpTool(request: HttpToolRequest, deps: HttpToolDeps): Promise<HttpToolResult> {
  const { tool } = request;
  const render = deps.render ?? renderInline;
  const scope = { inputs: request.scope.inputs, nodes: request.scope.nodes, args: request.args ?? {} };
  const url = (await renderField(render, tool.url, scope, 'url')).trim();

  const headers = new Headers();
  for (const [name, template] of Object.entries(tool.headers ?? {})) {
    const value = await renderField(render, template, scope, `header ${name}`);
    try {
      headers.set(name, value);
    } catch {
      // The value is not echoed: it may hold whatever the model put in its arguments.
      throw new ToolError('TEMPLATE_FAILED', `the header "${name}" of tool ${tool.name} is not a valid HTTP header (name or rendered value)`);
    }
  }

  const body = await requestBody(tool, render, scope);
  if (body !== undefined && !headers.has('content-type')) headers.set('content-type', isJson(body) ? 'application/json' : 'text/plain; charset=utf-8');
  if (!headers.has('accept')) headers.set('accept', 'application/json, text/plain;q=0.9, */*;q=0.8');

  const sensitiveHeaders: string[] = [];
  if (tool.credentialId) {
    const secret = await deps.secrets(request.tenantId, tool.credentialId);
    if (secret === null) throw new ToolError('CREDENTIAL_NOT_FOUND', `tool ${tool.name} names credential ${tool.credentialId}, which this tenant does not have`);
    const header = credentialHeaderOf(tool);
    headers.set(header, header === DEFAULT_CREDENTIAL_HEADER ? `Bearer ${secret}` : secret);
    sensitiveHeaders.push(header);
  }

  const answer = await deps.outbound.requestCapped(
    { method: tool.method, url, headers, ...(body !== undefined ? { body } : {}), sensitiveHeaders, ...(request.signal ? { signal: request.signal } : {}) },
    deps.responseMaxBytes,
  );
  const text = answer.body.toString('utf8');
  const parsed = isJsonContentType(answer.headers.get('content-type')) && !answer.truncated ? parseJson(text) : undefined;
  return { status: answer.status, body: parsed === undefined ? text : parsed.value, ...(answer.truncated ? { truncated: true } : {}) };
}

/**
 * The header the credential's secret goes in: the tool's `credentialHeader` (sent as the bare secret), or
 * `Authorization: Bearer <secret>`.
 */
export function credentialHeaderOf(tool: HttpTool): string {
  return tool.credentialHeader?.trim().toLowerCase() || DEFAULT_CREDENTIAL_HEADER;
}

/** The body template rendered; without one, a POST/PUT/PATCH sends the model's arguments as JSON. */
async function requestBody(tool: HttpTool, render: TemplateRenderer, scope: TemplateScope & { args: unknown }): Promise<string | undefined> {
  if (!BODY_METHODS.has(tool.method)) return undefined;
  if (tool.body !== undefined) return renderField(render, tool.body, scope, 'body');
  if (tool.method === 'DELETE') return undefined;
  return JSON.stringify(scope.args);
}

async function renderField(render: TemplateRenderer, template: string, scope: TemplateScope & { args: unknown }, what: string): Promise<string> {
  try {
    return await render(template, scope);
  } catch (err) {
    throw new ToolError('TEMPLATE_FAILED', `the ${what} template did not render: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function isJsonContentType(contentType: string | null): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}

function isJson(text: string): boolean {
  return parseJson(text) !== undefined;
}

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}
