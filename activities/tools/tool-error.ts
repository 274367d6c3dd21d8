// The one error type of tool calls and MCP clients: a code a program can branch on, a message a model (or a
// person) can read, and whether trying again may help. The caller decides what a failure becomes.
export type ToolErrorCode =
  /** The address policy refused a destination (core/address-policy.ts). */
  | 'OUTBOUND_REFUSED'
  /** No answer within TOOL_TIMEOUT_MS. */
  | 'OUTBOUND_TIMEOUT'
  /** The connection failed (refused, reset, DNS failure) or the answer could not be read. */
  | 'OUTBOUND_FAILED'
  /** An MCP message above MCP_RESPONSE_MAX_BYTES. */
  | 'RESPONSE_TOO_LARGE'
  /** The tool names a credential the tenant does not have. */
  | 'CREDENTIAL_NOT_FOUND'
  /** A url, header or body template did not render, or rendered to something unusable. */
  | 'TEMPLATE_FAILED'
  | 'MCP_SERVER_NOT_FOUND'
  /** The MCP server could not be reached or did not speak MCP. */
  | 'MCP_UNREACHABLE'
  /** The MCP server answered the call with an error. */
  | 'MCP_TOOL_ERROR';

const RETRYABLE: ReadonlySet<ToolErrorCode> = new Set(['OUTBOUND_TIMEOUT', 'OUTBOUND_FAILED', 'MCP_UNREACHABLE']);

export class ToolError extends Error {
  override name = 'ToolError';
  readonly retryable: boolean;

  constructor(
    readonly code: ToolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = RETRYABLE.has(code);
  }
}
