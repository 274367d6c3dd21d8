// Bad inputs against every route of API_ROUTES: malformed JSON, wrong media types, oversized bodies, wrong
// types for every field (generated from each route's zod schema), SQL-ish and template-injection strings in
// every free-text field, unicode, hostile ids and query strings, a 10,000-node canvas. Every answer must be
// a clear 4xx `{error: {code, message}}` (or a success that stored the text verbatim), never a 500, and a
// refused request must leave every table as it was.
import { z } from 'zod';
import { API_ROUTES, type ApiRoute } from '../server/openapi';
import { tenantSchemaName } from '../db';
import { fanOutGraph } from './fixtures/graphs';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { insertExportFixture } from './support/export-fixture';
import { startTestStack, type ApiResponse, type TestStack } from './support/stack';

jest.setTimeout(600_000);

let stack: TestStack;
let owner: TestSession;
let slug: string;
let workflowId: string;
let executionId: string;
let memberId: string;
let apiKeyId: string;
/** A member's session, ended by the first logout that gets through. */
let logoutToken: string;
let credentialId: string;
let mcpServerId: string;
let scheduleId: string;
let webhookId: string;
let exportId: string;
let deploymentId: string;
let tried = 0;
const failures: string[] = [];

/** Strings that have broken SQL builders, template engines, loggers and databases elsewhere. */
const HOSTILE_STRINGS = [
  "' OR '1'='1' --",
  "'; drop table workflows; --",
  'Robert"); DROP TABLE users;--',
  '1; select pg_sleep(5)',
  '$1 $2 $$ dollar $$',
  '{{constructor.constructor("return process")().exit()}}',
  '{{#each this}}{{/each}}',
  '${process.exit(1)}',
  '#{7*7} <%= 7*7 %> {{7*7}}',
  '$eval("1+1")',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '__proto__',
  'null byte \u0000 inside',
  '\u202Eevil rtl override',
  'emoji 🚀👩‍👩‍👧 and 漢字 and ﷽',
  'combining é vs é, zero\u200Bwidth',
  'lone surrogate \ud800 here',
  '%s%s%s%n',
  'x'.repeat(100_000),
];

/** Values of the wrong type for a field of each JSON-schema type. */
const WRONG_TYPES: Record<string, unknown[]> = {
  string: [123, true, [], {}, null],
  number: ['abc', true, [], {}, null, 1.5e308, -1],
  integer: ['1', 1.5, true, [], null, -1],
  boolean: ['true', 1, null],
  object: ['text', 42, [], null],
  array: ['text', 42, {}, null],
};

interface JsonSchema {
  type?: string | string[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  format?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: unknown;
}

function bodySchemaOf(route: ApiRoute): JsonSchema {
  return z.toJSONSchema(route.body!, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

function key(route: ApiRoute): string {
  return `${route.method} ${route.path}`;
}

/** A body each route accepts, to mutate one field at a time. */
function validBody(route: ApiRoute): Record<string, unknown> {
  const bodies: Record<string, () => Record<string, unknown>> = {
    'post /auth/register': () => ({ tenantName: 'Bad Inputs Inc', email: `bi-${Math.random().toString(36).slice(2)}@example.com`, password: 'long enough password' }),
    'post /auth/login': () => ({ email: owner.email, password: 'correct horse battery', tenant: slug }),
    'post /auth/refresh': () => ({ refreshToken: 'not-a-real-token' }),
    'post /auth/logout': () => ({ refreshToken: 'not-a-real-token' }),
    'post /workflows/validate': () => ({ graph: fanOutGraph() }),
    'post /workflows': () => ({ name: 'bad inputs', description: 'd', graph: fanOutGraph() }),
    'put /workflows/:id': () => ({ name: 'renamed', description: 'd' }),
    'post /workflows/:id/executions': () => ({ inputs: { topic: 't' } }),
    'post /executions/:id/approvals/:nodeId': () => ({ decision: 'approve', comment: 'c' }),
    // The suite's run never leaves pending (no worker): every retry of it is refused before anything is written.
    'post /executions/:id/retry': () => ({ fromNodeId: 'a', version: 'original' }),
    'post /users': () => ({ email: `m-${Math.random().toString(36).slice(2)}@example.com`, password: 'long enough password', role: 'viewer', name: 'n' }),
    'patch /users/:id': () => ({ role: 'viewer', name: 'n' }),
    'post /api-keys': () => ({ name: 'k', role: 'viewer' }),
    'post /credentials': () => ({ provider: 'openai', name: 'c', secret: 's' }),
    'patch /credentials/:id': () => ({ name: 'c', secret: 's', baseUrl: 'http://127.0.0.1:9/v1' }),
    'delete /tenant': () => ({ confirmSlug: 'definitely-not-the-slug' }),
    'post /workflows/:id/exports': () => ({ baseImage: 'python:3.12-slim' }),
    'post /exports/:id/deployments': () => ({ mode: 'oneshot', inputs: { topic: 't' }, baseImage: 'python:3.12-slim', port: 8080 }),
    // localhost: resolved from /etc/hosts and refused by the address policy, were it ever asked for its tools.
    'post /mcp-servers': () => ({ name: `m-${Math.random().toString(36).slice(2)}`, url: 'http://localhost:9/mcp', credentialId }),
    'post /workflows/:id/schedules': () => ({ intervalSeconds: 3600, paused: true, inputs: { topic: 't' } }),
    'patch /schedules/:id': () => ({ paused: true, inputs: { topic: 't' } }),
  };
  const make = bodies[key(route)];
  if (!make) throw new Error(`test/bad-inputs.test.ts has no valid body for ${key(route)}: add one`);
  return make();
}

function pathOf(route: ApiRoute, overrideId?: string): string {
  const ids: Record<string, string> = {
    '/workflows/:id': workflowId,
    '/workflows/:id/versions': workflowId,
    '/workflows/:id/executions': workflowId,
    '/executions/:id': executionId,
    '/executions/:id/events': executionId,
    '/executions/:id/cancel': executionId,
    '/executions/:id/retry': executionId,
    '/executions/:id/approvals/:nodeId': executionId,
    '/users/:id': memberId,
    '/api-keys/:id': apiKeyId,
    '/credentials/:id': credentialId,
    '/workflows/:id/exports': workflowId,
    '/exports/:id': exportId,
    '/exports/:id/events': exportId,
    '/exports/:id/download': exportId,
    '/exports/:id/cancel': exportId,
    '/exports/:id/deployments': exportId,
    '/deployments/:id': deploymentId,
    '/mcp-servers/:id': mcpServerId,
    '/mcp-servers/:id/tools': mcpServerId,
    '/workflows/:id/schedules': workflowId,
    '/schedules/:id': scheduleId,
    '/schedules/:id/trigger': scheduleId,
    '/workflows/:id/webhooks': workflowId,
    '/webhooks/:id': webhookId,
  };
  if (route.path.includes(':') && ids[route.path] === undefined) throw new Error(`test/bad-inputs.test.ts has no id for ${route.path}: add one`);
  return `/api/v1${route.path.replace(':id', overrideId ?? ids[route.path]!).replace(':nodeId', 'review')}`;
}

/** Row counts of every table the API writes: the tenant's schema and the public tables. */
async function snapshot(): Promise<string> {
  const schema = tenantSchemaName(owner.tenantId);
  const tables: { tablename: string }[] = await stack.db.dataSource.query(`select tablename from pg_tables where schemaname = $1 order by tablename`, [schema]);
  const counts: string[] = [];
  for (const t of tables) counts.push(`${t.tablename}=${(await stack.db.dataSource.query(`select count(*)::int as n from ${schema}."${t.tablename}"`))[0].n}`);
  for (const t of ['tenants', 'users', 'api_keys']) counts.push(`${t}=${(await stack.db.dataSource.query(`select count(*)::int as n from public.${t}`))[0].n}`);
  return counts.join(' ');
}

/** Sends one bad input and checks the answer; a refused request must not have written anything. */
async function attempt(label: string, send: () => Promise<ApiResponse>, allowSuccess: boolean): Promise<ApiResponse> {
  tried++;
  const before = await snapshot();
  const res = await send();
  const after = await snapshot();
  if (res.status >= 500) failures.push(`${label}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  else if (res.status >= 400) {
    if (typeof res.body?.error?.code !== 'string' || typeof res.body?.error?.message !== 'string') failures.push(`${label}: ${res.status} without {error: {code, message}}`);
    if (before !== after) failures.push(`${label}: refused with ${res.status} but wrote rows (${before} → ${after})`);
  } else if (!allowSuccess) failures.push(`${label}: accepted with ${res.status}`);
  return res;
}

function send(route: ApiRoute, body: unknown, opts: { raw?: string; contentType?: string; path?: string; token?: string | null } = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  return stack.request(route.method.toUpperCase(), opts.path ?? pathOf(route), {
    // A logout ends the session of the token it is sent with: it is sent with a session of its own.
    ...(opts.token === null ? {} : { token: opts.token ?? (route.path === '/auth/logout' ? logoutToken : owner.token) }),
    headers,
    body: opts.raw ?? JSON.stringify(body),
  });
}

beforeAll(async () => {
  // No worker: runs stay pending, so nothing writes to the database behind the snapshots' backs.
  // Limits high enough that the hundreds of login and register attempts below meet validation, not a 429.
  stack = await startTestStack({ worker: false, rateLimits: { authPerIp: { limit: 100_000, windowSeconds: 60 }, authPerEmail: { limit: 100_000, windowSeconds: 60 } } });
  owner = await registerTenant(stack, 'Bad Inputs');
  slug = (await stack.request('GET', '/api/v1/auth/me', { token: owner.token })).body.tenant.slug;
  workflowId = await createWorkflow(stack, owner, fanOutGraph());
  executionId = await startRun(stack, owner, workflowId, { topic: 'x' });
  memberId = (await stack.request('POST', '/api/v1/users', { token: owner.token, body: { email: 'member@example.com', password: 'long enough password', role: 'editor' } })).body.id;
  logoutToken = (await stack.request('POST', '/api/v1/auth/login', { body: { email: 'member@example.com', password: 'long enough password', tenant: slug } })).body.accessToken;
  apiKeyId = (await stack.request('POST', '/api/v1/api-keys', { token: owner.token, body: { name: 'k', role: 'viewer' } })).body.id;
  credentialId = (await stack.request('POST', '/api/v1/credentials', { token: owner.token, body: { provider: 'openai', name: 'c', secret: 's' } })).body.id;
  ({ exportId, deploymentId } = await insertExportFixture(stack, owner.tenantId, workflowId));
  mcpServerId = (await stack.request('POST', '/api/v1/mcp-servers', { token: owner.token, body: { name: 'tools', url: 'http://localhost:9/mcp' } })).body.id;
  // Paused and hourly: it never fires while the suite runs.
  scheduleId = (await stack.request('POST', `/api/v1/workflows/${workflowId}/schedules`, { token: owner.token, body: { intervalSeconds: 3600, paused: true, inputs: { topic: 'x' } } })).body.id;
  webhookId = (await stack.request('POST', `/api/v1/workflows/${workflowId}/webhooks`, { token: owner.token })).body.id;
});

beforeEach(() => {
  failures.length = 0;
});

afterAll(async () => {
  console.log(`bad inputs tried: ${tried}`);
  await stack?.close();
});

const bodyRoutes = API_ROUTES.filter((r) => r.body);

describe('bad request bodies', () => {
  it.each(bodyRoutes.map((r) => [key(r), r] as const))('%s: malformed JSON, wrong media type, non-object and oversized bodies are clear 4xx', async (_k, route) => {
    const isAuth = route.path.startsWith('/auth/');
    const cases: [string, () => Promise<ApiResponse>][] = [
      ['truncated JSON', () => send(route, null, { raw: '{"name": "x", ' })],
      ['single quotes', () => send(route, null, { raw: "{'name': 'x'}" })],
      ['trailing garbage', () => send(route, null, { raw: '{} xyz' })],
      ['text/plain', () => send(route, null, { raw: 'name=x', contentType: 'text/plain' })],
      ['form encoding', () => send(route, null, { raw: 'name=x', contentType: 'application/x-www-form-urlencoded' })],
      ['an array', () => send(route, [1, 2, 3])],
      ['a string', () => send(route, 'just a string')],
      ['a number', () => send(route, 42)],
      ['null', () => send(route, null)],
      ['deep nesting', () => send(route, null, { raw: '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) })],
      ['10,000 levels of arrays', () => send(route, null, { raw: '['.repeat(10_000) + ']'.repeat(10_000) })],
      ['10,000 levels of objects', () => send(route, null, { raw: '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) })],
      ['oversized', () => send(route, { ...validBody(route), padding: 'x'.repeat(isAuth ? 20 * 1024 : 3 * 1024 * 1024) })],
    ];
    for (const [label, go] of cases) {
      const res = await attempt(`${key(route)} with ${label}`, go, false);
      if (label === 'oversized') expect({ label, status: res.status }).toEqual({ label, status: 413 });
      // The auth routes' 16 KB limit refuses these bodies on their size first.
      if (label.startsWith('10,000 levels') && !isAuth) expect({ label, status: res.status, code: res.body?.error?.code }).toEqual({ label, status: 400, code: 'JSON_TOO_DEEP' });
    }
    expect(failures).toEqual([]);
  });

  it.each(bodyRoutes.map((r) => [key(r), r] as const))('%s: a wrong type in any field is a 4xx, a hostile string in any free-text field is no 500', async (_k, route) => {
    const schema = bodySchemaOf(route);
    const fields = Object.entries(schema.properties ?? {});
    expect(fields.length).toBeGreaterThan(0);
    for (const [field, declared] of fields) {
      // A field declared nullable (zod's .nullable(): `anyOf [T, null]`) takes null by design, e.g. a
      // credential's baseUrl, where null means "back to the configured server"; its T is checked as usual.
      const nullable = declared.anyOf?.some((v) => v.type === 'null') ?? false;
      const fieldSchema = declared.anyOf?.find((v) => v.type !== 'null') ?? declared;
      const type = Array.isArray(fieldSchema.type) ? fieldSchema.type[0] : fieldSchema.type;
      const wrong = (fieldSchema.enum ? ['superuser', '', 7, null] : (WRONG_TYPES[type ?? 'object'] ?? WRONG_TYPES.object!)).filter((v) => !(nullable && v === null));
      // POST /workflows/validate takes any document and answers whether it is a valid canvas.
      const judged = route.path === '/workflows/validate';
      for (const value of wrong) {
        // `null` for an optional field is still wrong: zod's optional() is not nullable().
        const res = await attempt(`${key(route)} ${field}=${JSON.stringify(value)?.slice(0, 40)}`, () => send(route, { ...validBody(route), [field]: value }), judged);
        if (judged) expect({ value, valid: res.body.valid }).toEqual({ value, valid: false });
      }
      if (type === 'string' && !fieldSchema.enum) {
        for (const text of HOSTILE_STRINGS) {
          const res = await attempt(`${key(route)} ${field}=${JSON.stringify(text.slice(0, 40))}`, () => send(route, { ...validBody(route), [field]: text }), true);
          // Whatever is accepted comes back exactly as sent: nothing was evaluated or mangled.
          if (res.status < 300 && (route.path === '/workflows' || route.path === '/workflows/:id') && (field === 'name' || field === 'description')) {
            const stored = await stack.request('GET', `/api/v1/workflows/${res.body.id}`, { token: owner.token });
            expect({ field, stored: stored.body[field] }).toEqual({ field, stored: field === 'name' ? text.trim() : text });
          }
        }
      }
    }
    // An unknown extra field is ignored or refused, never a 500.
    await attempt(`${key(route)} with an unknown field`, () => send(route, { ...validBody(route), isAdmin: true, role_override: 'owner' }), true);
    expect(failures).toEqual([]);
  });
});

describe('hostile ids and query strings', () => {
  const HOSTILE_IDS = ["1' or '1'='1", '00000000-0000-0000-0000-000000000000', 'ÄÖÜ', '%00', '..%2F..%2Fetc', '1;drop table users', encodeURIComponent('{{7*7}}'), 'a'.repeat(5000)];

  it.each(API_ROUTES.filter((r) => r.path.includes(':id')).map((r) => [key(r), r] as const))('%s answers 404 for ids that cannot exist', async (_k, route) => {
    for (const id of HOSTILE_IDS) {
      const go = () =>
        route.body
          ? send(route, validBody(route), { path: pathOf(route, id) })
          : stack.request(route.method.toUpperCase(), pathOf(route, id), { token: owner.token });
      const res = await attempt(`${key(route)} id=${id.slice(0, 30)}`, go, false);
      expect({ id: id.slice(0, 30), status: res.status }).toEqual({ id: id.slice(0, 30), status: 404 });
    }
    expect(failures).toEqual([]);
  });

  it.each(API_ROUTES.filter((r) => r.query).map((r) => [key(r), r] as const))('%s refuses wrong query values with 400, never 500', async (_k, route) => {
    const schema = z.toJSONSchema(route.query!, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    for (const field of Object.keys(schema.properties ?? {})) {
      for (const value of ['-1', 'abc', '1e999', "' or 1=1 --", '[]', 'x'.repeat(10_000), '%00']) {
        const path = `${pathOf(route)}?${field}=${encodeURIComponent(value)}`;
        await attempt(`${key(route)} ?${field}=${value.slice(0, 20)}`, () => stack.request('GET', path, { token: owner.token }), true);
      }
      // A repeated parameter arrives as an array.
      await attempt(`${key(route)} ?${field} twice`, () => stack.request('GET', `${pathOf(route)}?${field}=1&${field}=2`, { token: owner.token }), true);
    }
    expect(failures).toEqual([]);
  });
});

describe('canvases', () => {
  it('refuses a 10,000-node canvas with a clear 4xx, on create, update and validate', async () => {
    const nodes = Array.from({ length: 10_000 }, (_, i) => ({ id: `n${i}`, type: 'output', position: { x: i, y: 0 }, data: { value: 'v' } }));
    const graph = { nodes: [{ id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} }, ...nodes], edges: [] };
    const create = await attempt('10,000-node canvas (create)', () => stack.request('POST', '/api/v1/workflows', { token: owner.token, body: { name: 'huge', graph } }), false);
    expect(create.status).toBe(400);
    expect(JSON.stringify(create.body.error.details)).toMatch(/2000/);
    const update = await attempt('10,000-node canvas (update)', () => stack.request('PUT', `/api/v1/workflows/${workflowId}`, { token: owner.token, body: { graph } }), false);
    expect(update.status).toBe(400);
    const validate = await attempt('10,000-node canvas (validate)', () => stack.request('POST', '/api/v1/workflows/validate', { token: owner.token, body: { graph } }), true);
    expect(validate.status).toBeLessThan(500);
    expect(validate.body.valid ?? validate.body.ok).toBe(false);
    expect(failures).toEqual([]);
  });

  it('stores and returns unicode names exactly', async () => {
    for (const name of ['Café Ω 漢字 🚀', 'עברית RTL', 'e\u0301 combining', '👩‍👩‍👧 family']) {
      const res = await attempt(`unicode name ${name}`, () => stack.request('POST', '/api/v1/workflows', { token: owner.token, body: { name, graph: fanOutGraph() } }), true);
      expect(res.status).toBe(201);
      expect((await stack.request('GET', `/api/v1/workflows/${res.body.id}`, { token: owner.token })).body.name).toBe(name);
    }
    expect(failures).toEqual([]);
  });

  it('runs a canvas whose templates and inputs carry injection strings as plain text', async () => {
    await stack.startWorker();
    const graph = {
      nodes: [
        { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
        { id: 'shape', type: 'transform', position: { x: 200, y: 0 }, data: { template: 'got {{inputs.topic}} / {{constructor.constructor}} / {{__proto__}}' } },
        { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.shape}}' } },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'shape' },
        { id: 'e2', source: 'shape', target: 'out' },
      ],
    };
    const created = await stack.request('POST', '/api/v1/workflows', { token: owner.token, body: { name: 'injection', graph } });
    const topic = '{{constructor.constructor("return process")().exit()}} \'; drop table workflows; --';
    tried++;
    const run = await startRun(stack, owner, created.body.id, { topic });
    const done = await waitForExecution(stack, owner, run);
    expect(['succeeded', 'failed']).toContain(done.status);
    if (done.status === 'succeeded') expect(done.outputs.out).toContain(topic);
    // The table the string names is still there.
    expect((await stack.request('GET', '/api/v1/workflows', { token: owner.token })).status).toBe(200);
  });
});
