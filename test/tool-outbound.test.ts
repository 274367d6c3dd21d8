// SSRF protection of the http tool, against real sockets on loopback only: each refused request must leave
// the target server without a single connection (it counts them), and allowed hosts still work. No request
// of this file is ever aimed at anything but 127.0.0.1 or ::1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAllowedHosts } from '../core/address-policy';
import type { HttpTool } from '../core/graph';
import { runHttpTool, type HttpToolDeps } from '../activities/tools/http-tool';
import { OutboundClient, type Resolver } from '../activities/tools/outbound';
import { ToolError } from '../activities/tools/tool-error';
import { waitUntil } from './support/wait-until';

interface CountingServer {
  port: number;
  connections: number;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

async function startCountingServer(host: string, handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<CountingServer> {
  const state: CountingServer = { port: 0, connections: 0, requests: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle(req, res, body);
    });
  });
  server.on('connection', () => {
    state.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.port = (server.address() as AddressInfo).port;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

const SECRET = 'tool-secret-5a1b';

/** A resolver that answers loopback for the test's made-up names (and fails for anything else). */
const loopbackNames: Resolver = async (hostname) => {
  if (hostname === 'rebind.test' || hostname === 'redirector.test' || hostname === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  if (hostname === 'mixed.test') return [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

function tool(url: string, extra: Partial<HttpTool> = {}): HttpTool {
  return { type: 'http', name: 'fetch_it', method: 'GET', url, ...extra };
}

function depsWith(allowed: string, options: { resolve?: Resolver; timeoutMs?: number; responseMaxBytes?: number } = {}): HttpToolDeps & { outbound: OutboundClient } {
  return {
    outbound: new OutboundClient({
      allowedHosts: parseAllowedHosts(allowed),
      timeoutMs: options.timeoutMs ?? 5_000,
      mcpResponseMaxBytes: 1024 * 1024,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    }),
    secrets: async (_tenantId, credentialId) => (credentialId === 'cred-1' ? SECRET : null),
    responseMaxBytes: options.responseMaxBytes ?? 64 * 1024,
  };
}

const scope = { inputs: { city: 'Lyon' }, nodes: { draft: { text: 'hello' } } };

async function refusal(promise: Promise<unknown>): Promise<ToolError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ToolError) return err;
    throw err;
  }
  throw new Error('the request was not refused');
}

let target4: CountingServer;
let target6: CountingServer;

beforeAll(async () => {
  const answer = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ reached: true }));
  };
  target4 = await startCountingServer('127.0.0.1', answer);
  target6 = await startCountingServer('::1', answer);
});

afterAll(async () => {
  await target4.close();
  await target6.close();
});

describe('without TOOL_ALLOWED_HOSTS, loopback is refused before any connection', () => {
  const cases: [string, () => string, Resolver | undefined][] = [
    ['127.0.0.1', () => `http://127.0.0.1:${target4.port}/`, undefined],
    ['[::1]', () => `http://[::1]:${target6.port}/`, undefined],
    ['an IPv4-mapped IPv6 literal', () => `http://[::ffff:127.0.0.1]:${target4.port}/`, undefined],
    ['localhost (the system resolver)', () => `http://localhost:${target4.port}/`, undefined],
    ['a name a resolver maps to loopback', () => `http://rebind.test:${target4.port}/`, loopbackNames],
  ];

  it.each(cases)('%s', async (_what, url, resolve) => {
    const deps = depsWith('', resolve ? { resolve } : {});
    const before = target4.connections + target6.connections;
    const err = await refusal(runHttpTool({ tenantId: 't', tool: tool(url(), { credentialId: 'cred-1' }), args: {}, scope }, deps));
    expect(err.code).toBe('OUTBOUND_REFUSED');
    expect(err.message).toMatch(/loopback|IPv4-mapped/);
    expect(err.message).toContain('TOOL_ALLOWED_HOSTS');
    expect(err.message).not.toContain(SECRET);
    expect(target4.connections + target6.connections).toBe(before);
    await deps.outbound.close();
  });

  it('refuses a name when any of its addresses is refused, even if another is listed', async () => {
    const deps = depsWith('127.0.0.1', { resolve: loopbackNames });
    const before = target4.connections + target6.connections;
    const err = await refusal(runHttpTool({ tenantId: 't', tool: tool(`http://mixed.test:${target4.port}/`), args: {}, scope }, deps));
    expect(err.code).toBe('OUTBOUND_REFUSED');
    expect(err.message).toContain('::1');
    expect(target4.connections + target6.connections).toBe(before);
    await deps.outbound.close();
  });

  it('refuses schemes other than http and https', async () => {
    const deps = depsWith('127.0.0.1');
    const err = await refusal(runHttpTool({ tenantId: 't', tool: tool(`file:///etc/passwd`), args: {}, scope }, deps));
    expect(err.code).toBe('OUTBOUND_REFUSED');
    await deps.outbound.close();
  });
});

describe('redirects are checked hop by hop', () => {
  let redirector: CountingServer;
  let location = '';

  beforeAll(async () => {
    redirector = await startCountingServer('127.0.0.1', (_req, res) => {
      res.writeHead(302, { location }).end();
    });
  });
  afterAll(() => redirector.close());

  it.each([
    ['to 127.0.0.1', () => `http://127.0.0.1:${target4.port}/secret`],
    ['to localhost', () => `http://localhost:${target4.port}/secret`],
    ['to [::1]', () => `http://[::1]:${target6.port}/secret`],
  ])('a redirect from an allowed host %s, which is not allowed, is refused with nothing reaching it', async (_what, to) => {
    location = to();
    // Only the redirector's name is listed: its loopback address is allowed through that name alone.
    const deps = depsWith('redirector.test', { resolve: loopbackNames });
    const before = { redirector: redirector.requests.length, targets: target4.connections + target6.connections };
    const err = await refusal(runHttpTool({ tenantId: 't', tool: tool(`http://redirector.test:${redirector.port}/start`), args: {}, scope }, deps));
    expect(err.code).toBe('OUTBOUND_REFUSED');
    expect(redirector.requests.length).toBe(before.redirector + 1);
    expect(target4.connections + target6.connections).toBe(before.targets);
    await deps.outbound.close();
  });
});

describe('allowed hosts still work', () => {
  it('GETs a listed address with templates over inputs, nodes and args, the credential as a bearer token, and parses JSON', async () => {
    const deps = depsWith('127.0.0.1');
    const before = target4.requests.length;
    const result = await runHttpTool(
      {
        tenantId: 't',
        tool: tool(`http://127.0.0.1:${target4.port}/weather?city={{inputs.city}}&q={{args.q}}`, { credentialId: 'cred-1', headers: { 'x-draft': '{{nodes.draft.text}}' } }),
        args: { q: 'rain' },
        scope,
      },
      deps,
    );
    expect(result).toEqual({ status: 200, body: { reached: true } });
    const seen = target4.requests[before];
    expect(seen?.url).toBe('/weather?city=Lyon&q=rain');
    expect(seen?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(seen?.headers['x-draft']).toBe('hello');
    await deps.outbound.close();
  });

  it('sends the model arguments as the JSON body of a POST without a body template; a named credential header gets the bare secret', async () => {
    const deps = depsWith(`127.0.0.1`);
    const before = target4.requests.length;
    const httpTool = tool(`http://127.0.0.1:${target4.port}/items`, { method: 'POST', credentialId: 'cred-1', credentialHeader: 'X-Api-Key' });
    const result = await runHttpTool({ tenantId: 't', tool: httpTool, args: { name: 'widget', count: 2 }, scope }, deps);
    expect(result.status).toBe(200);
    const seen = target4.requests[before];
    expect(seen?.method).toBe('POST');
    expect(JSON.parse(seen?.body ?? '')).toEqual({ name: 'widget', count: 2 });
    expect(seen?.headers['content-type']).toBe('application/json');
    expect(seen?.headers['x-api-key']).toBe(SECRET);
    expect(seen?.headers.authorization).toBeUndefined();
    await deps.outbound.close();
  });

  it('follows a redirect between allowed hosts, leaving the credential behind on another origin', async () => {
    const other = await startCountingServer('127.0.0.1', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('moved here');
    });
    const hop = await startCountingServer('127.0.0.1', (_req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${other.port}/landing` }).end();
    });
    const deps = depsWith('127.0.0.1');
    const result = await runHttpTool({ tenantId: 't', tool: tool(`http://127.0.0.1:${hop.port}/`, { credentialId: 'cred-1' }), args: {}, scope }, deps);
    expect(result).toEqual({ status: 200, body: 'moved here' });
    expect(hop.requests[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(other.requests[0]?.headers.authorization).toBeUndefined();
    await deps.outbound.close();
    await hop.close();
    await other.close();
  });

  it('cuts a large body at the cap and marks it truncated', async () => {
    const big = await startCountingServer('127.0.0.1', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: 'x'.repeat(10_000) }));
    });
    const deps = depsWith('127.0.0.1', { responseMaxBytes: 1024 });
    const result = await runHttpTool({ tenantId: 't', tool: tool(`http://127.0.0.1:${big.port}/`), args: {}, scope }, deps);
    expect(result.truncated).toBe(true);
    expect(typeof result.body).toBe('string');
    expect(Buffer.byteLength(result.body as string)).toBe(1024);
    await deps.outbound.close();
    await big.close();
  });

  it('gives up on a server that does not answer within the timeout', async () => {
    const silent = await startCountingServer('127.0.0.1', () => undefined);
    const deps = depsWith('127.0.0.1', { timeoutMs: 300 });
    const err = await refusal(runHttpTool({ tenantId: 't', tool: tool(`http://127.0.0.1:${silent.port}/`), args: {}, scope }, deps));
    expect(err.code).toBe('OUTBOUND_TIMEOUT');
    expect(err.retryable).toBe(true);
    await deps.outbound.close();
    await silent.close();
  });

  it("stops at once when the caller's signal aborts (a cancelled activity), without waiting for the timeout", async () => {
    const silent = await startCountingServer('127.0.0.1', () => undefined);
    const deps = depsWith('127.0.0.1', { timeoutMs: 30_000 });
    const controller = new AbortController();
    const call = runHttpTool({ tenantId: 't', tool: tool(`http://127.0.0.1:${silent.port}/`), args: {}, scope, signal: controller.signal }, deps);
    await waitUntil('the request to arrive', () => silent.requests.length === 1, { timeoutMs: 5_000, intervalMs: 10 });
    controller.abort();
    const err = await call.catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ToolError);
    expect((err as Error).name).toBe('AbortError');
    await deps.outbound.close();
    await silent.close();
  });

  it('fails with CREDENTIAL_NOT_FOUND, sending nothing, when the credential is unknown', async () => {
    const deps = depsWith('127.0.0.1');
    const before = target4.connections;
    const err = await refusal(runHttpTool({ tenantId: 't', tool: tool(`http://127.0.0.1:${target4.port}/`, { credentialId: 'nope' }), args: {}, scope }, deps));
    expect(err.code).toBe('CREDENTIAL_NOT_FOUND');
    expect(target4.connections).toBe(before);
    await deps.outbound.close();
  });
});

describe('the fetch MCP transports use', () => {
  it('fails an answer larger than the MCP cap while reading it', async () => {
    const big = await startCountingServer('127.0.0.1', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: 'x'.repeat(10_000) }));
    });
    const outbound = new OutboundClient({ allowedHosts: parseAllowedHosts('127.0.0.1'), timeoutMs: 5_000, mcpResponseMaxBytes: 1024 });
    const response = await outbound.fetch(`http://127.0.0.1:${big.port}/mcp`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(200);
    const err = await refusal(response.text());
    expect(err.code).toBe('RESPONSE_TOO_LARGE');
    await outbound.close();
    await big.close();
  });

  it("returns a redirect as it is when asked with redirect: 'manual' (the SDK follows within the origin itself), and refuses it with 'error'", async () => {
    const hop = await startCountingServer('127.0.0.1', (_req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${target4.port}/elsewhere` }).end();
    });
    const outbound = new OutboundClient({ allowedHosts: parseAllowedHosts('127.0.0.1'), timeoutMs: 5_000, mcpResponseMaxBytes: 1024 });
    const before = target4.requests.length;
    const manual = await outbound.fetch(`http://127.0.0.1:${hop.port}/mcp`, { method: 'POST', body: '{}', redirect: 'manual' });
    expect(manual.status).toBe(307);
    expect(manual.headers.get('location')).toBe(`http://127.0.0.1:${target4.port}/elsewhere`);
    expect((await refusal(outbound.fetch(`http://127.0.0.1:${hop.port}/mcp`, { method: 'POST', body: '{}', redirect: 'error' }))).code).toBe('OUTBOUND_FAILED');
    expect(target4.requests.length).toBe(before);
    await outbound.close();
    await hop.close();
  });
});
