// Outbound HTTP of tools and MCP clients, safe against server-side request forgery (DESIGN.md §8): every
// address a request would connect to is checked by core/address-policy.ts before the socket opens, and the
// socket connects to exactly the addresses that were checked (the check runs inside the connection's DNS
// lookup, so a second answer of a rebinding DNS server is never asked for). Redirects are followed here, hop
// by hop, each hop checked the same way; timeouts and size caps always apply.
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, fetch as undiciFetch } from 'undici';
import { checkAddress, isIpLiteral, type AllowedHosts } from '../../core/address-policy';
import type { ToolOutboundSettings } from '../../core/config';
import { ToolError } from './tool-error';

/** Resolves a host name to every address it has; tests give one that answers loopback for any name. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface OutboundPolicy {
  allowedHosts: AllowedHosts;
  /** One request: connecting, every redirect hop, and (for capped reads) the body. */
  timeoutMs: number;
  /** The largest MCP message (a stream that grows past it fails). */
  mcpResponseMaxBytes: number;
  /** Default 5, as most clients. */
  maxRedirects?: number;
  resolve?: Resolver;
}

export interface OutboundRequest {
  method: string;
  url: string;
  headers?: Headers;
  body?: string;
  /** Header names (lower case) never sent on to another origin after a redirect: the credential's. */
  sensitiveHeaders?: readonly string[];
  signal?: AbortSignal;
}

/** A response read under a byte cap. */
export interface CappedResponse {
  status: number;
  headers: Headers;
  /** The URL that answered, after redirects. */
  url: string;
  body: Buffer;
  truncated: boolean;
}

/** The `fetch` an MCP client transport takes. */
export type SafeFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

interface Deadline {
  signal: AbortSignal;
  timedOut(): boolean;
  abortedByCaller(): boolean;
  clear(): void;
}

const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Sent to another origin, these would hand it what was meant for the first one.
const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

const defaultResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export class OutboundClient {
  private readonly agent: Agent;
  private readonly resolve: Resolver;
  private readonly maxRedirects: number;

  constructor(private readonly policy: OutboundPolicy) {
    this.resolve = policy.resolve ?? defaultResolver;
    this.maxRedirects = policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    this.agent = new Agent({
      connect: { lookup: (hostname, options, callback) => this.lookup(hostname, options, callback), timeout: policy.timeoutMs },
      headersTimeout: policy.timeoutMs,
      bodyTimeout: policy.timeoutMs,
    });
  }

  /** Sends a request and reads at most `maxBytes` of the answer; the rest is dropped and the result marked truncated. */
  async requestCapped(request: OutboundRequest, maxBytes: number): Promise<CappedResponse> {
    const deadline = this.deadline(request.signal);
    try {
      const { response, url } = await this.follow(request, deadline.signal);
      const { body, truncated } = await readCapped(response.body, maxBytes);
      return { status: response.status, headers: copyHeaders(response.headers), url, body, truncated };
    } catch (err) {
      throw this.toolError(err, deadline);
    } finally {
      deadline.clear();
    }
  }

  /**
   * A `fetch` for MCP transports: the timeout runs until the answer's headers (an MCP answer may be a stream
   * of events the SDK times itself), and a body longer than `mcpResponseMaxBytes` fails.
   */
  readonly fetch: SafeFetch = async (input, init = {}) => {
    const deadline = this.deadline(init.signal ?? undefined);
    try {
      const { response } = await this.follow(
        {
          method: init.method ?? 'GET',
          url: String(input),
          headers: new Headers(init.headers),
          ...(typeof init.body === 'string' ? { body: init.body } : {}),
          sensitiveHeaders: ['authorization'],
        },
        deadline.signal,
        // The SDK follows redirects within the origin itself, asking with 'manual'; each hop it asks is checked here.
        init.redirect ?? 'follow',
      );
      deadline.clear();
      const body = NULL_BODY_STATUSES.has(response.status) || !response.body ? null : capStream(response.body as ReadableStream<Uint8Array>, this.policy.mcpResponseMaxBytes);
      return new Response(body, { status: response.status, statusText: response.statusText, headers: copyHeaders(response.headers) });
    } catch (err) {
      throw this.toolError(err, deadline);
    } finally {
      deadline.clear();
    }
  };

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Follows redirects by hand: each hop's URL is checked before it is asked, and origin-bound headers stay behind. */
  private async follow(
    request: OutboundRequest,
    signal: AbortSignal,
    redirect: 'follow' | 'manual' | 'error' = 'follow',
  ): Promise<{ response: Awaited<ReturnType<typeof undiciFetch>>; url: string }> {
    let url = request.url;
    let method = request.method.toUpperCase();
    let body = request.body;
    const headers = new Headers(request.headers);
    for (let hop = 0; ; hop++) {
      const target = this.checkUrl(url);
      const response = await undiciFetch(target, {
        method,
        headers: [...headers],
        ...(body !== undefined && method !== 'GET' && method !== 'HEAD' ? { body } : {}),
        redirect: 'manual',
        dispatcher: this.agent,
        signal,
      });
      const location = response.headers.get('location');
      if (!REDIRECT_STATUSES.has(response.status) || location === null || redirect === 'manual') return { response, url: target.href };
      await response.body?.cancel();
      if (redirect === 'error') throw new ToolError('OUTBOUND_FAILED', `${redactUrl(target.href)} answered with a redirect`);
      if (hop >= this.maxRedirects) throw new ToolError('OUTBOUND_FAILED', `more than ${this.maxRedirects} redirects, starting at ${redactUrl(request.url)}`);
      const next = new URL(location, target);
      if (next.origin !== target.origin) {
        for (const name of [...ORIGIN_BOUND_HEADERS, ...(request.sensitiveHeaders ?? [])]) headers.delete(name);
      }
      // As browsers do: 303 always, and 301/302 after a POST, go on as a GET without the body.
      if (response.status === 303 ? method !== 'HEAD' : (response.status === 301 || response.status === 302) && method === 'POST') {
        method = 'GET';
        body = undefined;
        headers.delete('content-type');
        headers.delete('content-length');
      }
      url = next.href;
    }
  }

  /** Refuses a URL that is not http(s) or that names a refused address literally (names are checked at lookup). */
  private checkUrl(url: string): URL {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new ToolError('OUTBOUND_REFUSED', `"${truncate(url, 200)}" is not a URL`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new ToolError('OUTBOUND_REFUSED', `only http and https URLs are allowed, not ${target.protocol}`);
    }
    if (target.username || target.password) throw new ToolError('OUTBOUND_REFUSED', 'URLs with a user name or password are not allowed; use a credential');
    // An IP literal is connected to without a lookup, so it is checked here.
    if (isIpLiteral(target.hostname)) this.checkOrThrow(target.hostname, target.hostname);
    return target;
  }

  private checkOrThrow(hostname: string, address: string): void {
    const verdict = checkAddress(hostname, address, this.policy.allowedHosts);
    if (!verdict.allowed) throw new ToolError('OUTBOUND_REFUSED', `refused to connect to ${hostname}: ${verdict.reason}`);
  }

  /** The socket's DNS lookup: resolves, refuses the name if any of its addresses is refused, else hands over those. */
  private lookup(
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void {
    this.resolve(hostname).then(
      (all) => {
        try {
          if (all.length === 0) throw new ToolError('OUTBOUND_FAILED', `${hostname} has no address`);
          for (const a of all) this.checkOrThrow(hostname, a.address);
          const family = options.family === 4 || options.family === 6 ? options.family : 0;
          const usable = family ? all.filter((a) => a.family === family) : all;
          const first = usable[0];
          if (!first) throw new ToolError('OUTBOUND_FAILED', `${hostname} has no IPv${family} address`);
          if (options.all) callback(null, usable);
          else callback(null, first.address, first.family);
        } catch (err) {
          callback(err as NodeJS.ErrnoException, '');
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  }

  private deadline(outer: AbortSignal | undefined): Deadline {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new ToolError('OUTBOUND_TIMEOUT', `no answer within ${this.policy.timeoutMs} ms (TOOL_TIMEOUT_MS)`)), this.policy.timeoutMs);
    return {
      signal: outer ? AbortSignal.any([controller.signal, outer]) : controller.signal,
      timedOut: () => controller.signal.aborted,
      abortedByCaller: () => outer?.aborted ?? false,
      clear: () => clearTimeout(timer),
    };
  }

  private toolError(err: unknown, deadline: Deadline): unknown {
    // The caller's own abort (a cancelled activity, a closed MCP client) stays what it was.
    if (deadline.abortedByCaller() && !deadline.timedOut()) return err;
    const own = findToolError(err);
    if (own) return own;
    if (deadline.timedOut()) return new ToolError('OUTBOUND_TIMEOUT', `no answer within ${this.policy.timeoutMs} ms (TOOL_TIMEOUT_MS)`, { cause: err });
    return new ToolError('OUTBOUND_FAILED', `the request failed: ${rootMessage(err)}`, { cause: err });
  }
}

/** The client of a process's tools, from its configuration (config.tools). */
export function createOutboundClient(settings: ToolOutboundSettings, resolve?: Resolver): OutboundClient {
  return new OutboundClient({
    allowedHosts: settings.allowedHosts,
    timeoutMs: settings.timeoutMs,
    mcpResponseMaxBytes: settings.mcpResponseMaxBytes,
    ...(resolve ? { resolve } : {}),
  });
}

/** undici's Headers as the global class (the package and Node's built-in fetch are separate copies). */
function copyHeaders(from: { forEach(cb: (value: string, name: string) => void): void }): Headers {
  const headers = new Headers();
  from.forEach((value, name) => headers.append(name, value));
  return headers;
}

/** Reads a body up to `maxBytes`; what lies beyond is cancelled, not downloaded. */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<{ body: Buffer; truncated: boolean }> {
  if (!body) return { body: Buffer.alloc(0), truncated: false };
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { body: Buffer.concat(chunks), truncated: false };
    const room = maxBytes - size;
    if (value.byteLength > room) {
      chunks.push(Buffer.from(value.buffer, value.byteOffset, room));
      await reader.cancel();
      return { body: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    size += value.byteLength;
  }
}

/** Passes a stream through, failing it once more than `maxBytes` went by. */
function capStream(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  let size = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > maxBytes) controller.error(new ToolError('RESPONSE_TOO_LARGE', `the MCP server sent more than ${maxBytes} bytes in one answer (MCP_RESPONSE_MAX_BYTES)`));
        else controller.enqueue(chunk);
      },
    }),
  );
}

function findToolError(err: unknown): ToolError | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof ToolError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

function rootMessage(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && (e as { cause?: unknown })?.cause; depth++) e = (e as { cause?: unknown }).cause;
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message : String(e);
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}

/** A URL for messages: no query string (it may carry a key) and no user info. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return truncate(url.split('?')[0] ?? '', 200);
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
