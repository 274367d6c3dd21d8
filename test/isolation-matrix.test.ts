// The isolation matrix, generated from API_ROUTES: every route × {another tenant's id, no token, expired
// token, revoked token (a removed user and a revoked API key), a role below the route's} answers 404, 401
// or 403 as fitting. The Express app is walked too, so a route without an API_ROUTES entry fails here,
// and a route taking ids without a fixture below fails with a message saying what to add.
import { reviewGraph } from './fixtures/approval-graphs';
import { fanOutGraph, OUTLASTING_TURN_MS } from './fixtures/graphs';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, TEST_JWT_SECRET, type TestStack } from './support/stack';
import { API_ROUTES, type ApiRoute } from '../server/openapi';
import { CODEC_PATH } from '../server/temporal/codec-server';
import { createTokenService } from '../server/auth/tokens';
import { AccountRepository, type Role } from '../db';
import { tenantMigrations } from '../migrations/tenant';
import { temporalWorkflowId } from '../core/events';
import { insertExportFixture } from './support/export-fixture';
import { expressRoutes } from './support/express-routes';

jest.setTimeout(240_000);

let stack: TestStack;

/** Everything a tenant owns that a route can name by id, made through the API. */
interface TenantWorld {
  owner: TestSession;
  slug: string;
  workflowId: string;
  executionId: string;
  /** A run waiting at approval node `review`. */
  approvalExecutionId: string;
  memberId: string;
  apiKeyId: string;
  credentialId: string;
  exportId: string;
  deploymentId: string;
  mcpServerId: string;
  scheduleId: string;
  webhookId: string;
}

/** The ids a route's path parameters take, per path. A new route with ids needs an entry here. */
const FIXTURES: Record<string, (w: TenantWorld) => Record<string, string>> = {
  '/workflows/:id': (w) => ({ id: w.workflowId }),
  '/workflows/:id/versions': (w) => ({ id: w.workflowId }),
  '/workflows/:id/executions': (w) => ({ id: w.workflowId }),
  '/executions/:id': (w) => ({ id: w.executionId }),
  '/executions/:id/events': (w) => ({ id: w.executionId }),
  '/executions/:id/cancel': (w) => ({ id: w.executionId }),
  '/executions/:id/retry': (w) => ({ id: w.executionId }),
  '/executions/:id/approvals/:nodeId': (w) => ({ id: w.approvalExecutionId, nodeId: 'review' }),
  '/users/:id': (w) => ({ id: w.memberId }),
  '/api-keys/:id': (w) => ({ id: w.apiKeyId }),
  '/credentials/:id': (w) => ({ id: w.credentialId }),
  '/workflows/:id/exports': (w) => ({ id: w.workflowId }),
  '/exports/:id': (w) => ({ id: w.exportId }),
  '/exports/:id/events': (w) => ({ id: w.exportId }),
  '/exports/:id/download': (w) => ({ id: w.exportId }),
  '/exports/:id/cancel': (w) => ({ id: w.exportId }),
  '/exports/:id/deployments': (w) => ({ id: w.exportId }),
  '/deployments/:id': (w) => ({ id: w.deploymentId }),
  '/mcp-servers/:id': (w) => ({ id: w.mcpServerId }),
  '/mcp-servers/:id/tools': (w) => ({ id: w.mcpServerId }),
  '/workflows/:id/schedules': (w) => ({ id: w.workflowId }),
  '/schedules/:id': (w) => ({ id: w.scheduleId }),
  '/schedules/:id/trigger': (w) => ({ id: w.scheduleId }),
  '/workflows/:id/webhooks': (w) => ({ id: w.workflowId }),
  '/webhooks/:id': (w) => ({ id: w.webhookId }),
};

/** A body the route accepts, so that a cross-tenant call fails on the id and not on validation. */
const VALID_BODIES: Record<string, (w: TenantWorld) => unknown> = {
  'post /auth/logout': () => ({}),
  'post /workflows/validate': () => ({ graph: fanOutGraph() }),
  'post /workflows': () => ({ name: 'matrix', graph: fanOutGraph() }),
  'put /workflows/:id': () => ({ name: 'renamed by another tenant' }),
  'post /workflows/:id/executions': () => ({ inputs: { topic: 'x' } }),
  'post /executions/:id/approvals/:nodeId': () => ({ decision: 'approve', comment: 'not yours' }),
  'post /executions/:id/retry': () => ({ fromNodeId: 'a' }),
  'post /users': () => ({ email: 'someone@example.com', password: 'long enough password', role: 'viewer' }),
  'patch /users/:id': () => ({ role: 'viewer' }),
  'post /api-keys': () => ({ name: 'k', role: 'viewer' }),
  'post /credentials': () => ({ provider: 'openai', name: 'c', secret: 'sk-matrix' }),
  'patch /credentials/:id': () => ({ secret: 'sk-rotated-by-another-tenant' }),
  'delete /tenant': (w) => ({ confirmSlug: w.slug }),
  'post /workflows/:id/exports': () => ({}),
  'post /exports/:id/deployments': () => ({ mode: 'oneshot', inputs: { topic: 'x' } }),
  'post /workflows/:id/schedules': () => ({ intervalSeconds: 3600, paused: true, inputs: { topic: 'x' } }),
  'patch /schedules/:id': () => ({ paused: false }),
  'post /mcp-servers': () => ({ name: `matrix ${Math.random().toString(36).slice(2)}`, url: 'http://localhost:9/mcp' }),
};

const RANK: Role[] = ['viewer', 'editor', 'admin', 'owner'];

function key(route: Pick<ApiRoute, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

function pathFor(route: ApiRoute, world: TenantWorld): string {
  const params = route.path.includes(':') ? fixtureFor(route)(world) : {};
  return `/api/v1${route.path.replace(/:(\w+)/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`fixture for ${key(route)} gives no :${name}`);
    return value;
  })}`;
}

function fixtureFor(route: ApiRoute): (w: TenantWorld) => Record<string, string> {
  const fixture = FIXTURES[route.path];
  if (!fixture) {
    throw new Error(`route ${key(route)} takes path parameters but test/isolation-matrix.test.ts has no FIXTURES['${route.path}']: add one that creates the resource`);
  }
  return fixture;
}

function bodyFor(route: ApiRoute, world: TenantWorld): unknown {
  if (!route.body) return undefined;
  const make = VALID_BODIES[key(route)];
  if (make) return make(world);
  // Only the cross-tenant case gets past authentication and role checks, and it runs on routes with ids.
  if (route.takesId) throw new Error(`route ${key(route)} takes a body but test/isolation-matrix.test.ts has no VALID_BODIES['${key(route)}']`);
  return {};
}


async function member(world: TenantWorld, role: Role): Promise<TestSession & { id: string }> {
  const email = `${role}-${Math.random().toString(36).slice(2, 10)}@example.com`;
  const added = await stack.request('POST', '/api/v1/users', { token: world.owner.token, body: { email, password: 'member password 1', role } });
  if (added.status !== 201) throw new Error(`adding a ${role}: ${added.status} ${JSON.stringify(added.body)}`);
  const login = await stack.request('POST', '/api/v1/auth/login', { body: { email, password: 'member password 1', tenant: world.slug } });
  if (login.status !== 200) throw new Error(`member login: ${login.status} ${JSON.stringify(login.body)}`);
  return { token: login.body.accessToken, tenantId: world.owner.tenantId, userId: added.body.id, email, id: added.body.id };
}

async function buildWorld(name: string): Promise<TenantWorld> {
  const owner = await registerTenant(stack, name);
  const me = await stack.request('GET', '/api/v1/auth/me', { token: owner.token });
  // Still running at the end of the file, however long the matrix takes: the last test checks it is untouched.
  const workflowId = await createWorkflow(stack, owner, fanOutGraph(OUTLASTING_TURN_MS));
  const executionId = await startRun(stack, owner, workflowId, { topic: 'isolation' });
  const reviewId = await createWorkflow(stack, owner, reviewGraph(), 'review');
  const approvalExecutionId = await startRun(stack, owner, reviewId, {});
  const world: TenantWorld = { owner, slug: me.body.tenant.slug, workflowId, executionId, approvalExecutionId, memberId: '', apiKeyId: '', credentialId: '', exportId: '', deploymentId: '', mcpServerId: '', scheduleId: '', webhookId: '' };
  Object.assign(world, await insertExportFixture(stack, owner.tenantId, workflowId));
  world.memberId = (await member(world, 'editor')).id;
  const keyRes = await stack.request('POST', '/api/v1/api-keys', { token: owner.token, body: { name: 'ci', role: 'editor' } });
  world.apiKeyId = keyRes.body.id;
  const cred = await stack.request('POST', '/api/v1/credentials', { token: owner.token, body: { provider: 'openai', name: 'prod', secret: 'sk-isolation' } });
  world.credentialId = cred.body.id;
  // Never asked: every cell of the matrix is refused before a server's tools are (and localhost, from
  // /etc/hosts, would be refused by the address policy).
  const mcpServer = await stack.request('POST', '/api/v1/mcp-servers', { token: owner.token, body: { name: 'tools', url: 'http://localhost:9/mcp' } });
  world.mcpServerId = mcpServer.body.id;
  // Paused, so it never fires during the matrix.
  const schedule = await stack.request('POST', `/api/v1/workflows/${workflowId}/schedules`, { token: owner.token, body: { intervalSeconds: 3600, paused: true, inputs: { topic: 'x' } } });
  world.scheduleId = schedule.body.id;
  const webhook = await stack.request('POST', `/api/v1/workflows/${workflowId}/webhooks`, { token: owner.token });
  world.webhookId = webhook.body.id;
  await waitForExecution(stack, owner, approvalExecutionId, (e) => e.status === 'waiting');
  return world;
}

let a: TenantWorld;
let b: TenantWorld;
const tokens: Record<string, string> = {};
const apiKeys: Record<string, string> = {};

beforeAll(async () => {
  stack = await startTestStack();
  a = await buildWorld('Tenant A');
  b = await buildWorld('Tenant B');
  for (const role of ['viewer', 'editor', 'admin'] as const) tokens[role] = (await member(a, role)).token;

  // Expired: a token minted by the same secret with a clock an hour behind (lifetime 15 minutes).
  const past = createTokenService({ jwtSecret: TEST_JWT_SECRET, accounts: new AccountRepository(stack.db.dataSource, tenantMigrations), now: () => new Date(Date.now() - 3600_000) });
  tokens.expired = past.signAccessToken({ userId: a.owner.userId, tenantId: a.owner.tenantId, role: 'owner', email: a.owner.email });

  // Removed: an admin's token, whose user is then removed (the token itself is still within its lifetime).
  const doomed = await member(a, 'admin');
  expect((await stack.request('DELETE', `/api/v1/users/${doomed.id}`, { token: a.owner.token })).status).toBe(204);
  tokens.removed = doomed.token;

  const revoked = await stack.request('POST', '/api/v1/api-keys', { token: a.owner.token, body: { name: 'revoked', role: 'admin' } });
  expect((await stack.request('DELETE', `/api/v1/api-keys/${revoked.body.id}`, { token: a.owner.token })).status).toBe(204);
  apiKeys.revoked = revoked.body.key;
  const live = await stack.request('POST', '/api/v1/api-keys', { token: a.owner.token, body: { name: 'viewer key', role: 'viewer' } });
  apiKeys.viewer = live.body.key;
});

afterAll(async () => {
  await stack?.close();
});

interface Case {
  name: string;
  expected: number;
  headers: (route: ApiRoute) => Record<string, string>;
  world: () => TenantWorld;
  applies: (route: ApiRoute) => boolean;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const below = (role: Role): Role | null => RANK[RANK.indexOf(role) - 1] ?? null;

const CASES: Case[] = [
  { name: "another tenant's id", expected: 404, headers: () => bearer(a.owner.token), world: () => b, applies: (r) => r.role !== null && r.takesId === true },
  { name: 'no token', expected: 401, headers: () => ({}), world: () => a, applies: (r) => r.role !== null },
  { name: 'an expired token', expected: 401, headers: () => bearer(tokens.expired!), world: () => a, applies: (r) => r.role !== null },
  { name: 'the token of a removed user', expected: 401, headers: () => bearer(tokens.removed!), world: () => a, applies: (r) => r.role !== null },
  { name: 'a revoked API key', expected: 401, headers: () => ({ 'x-api-key': apiKeys.revoked! }), world: () => a, applies: (r) => r.role !== null },
  { name: 'a viewer where more is needed', expected: 403, headers: () => bearer(tokens.viewer!), world: () => a, applies: (r) => r.role !== null && r.role !== 'viewer' },
  {
    name: 'the role just below the one needed',
    expected: 403,
    headers: (r) => bearer(tokens[below(r.role!)!]!),
    world: () => a,
    applies: (r) => r.role !== null && r.role !== 'viewer' && r.role !== 'editor',
  },
  { name: 'a viewer API key where more is needed', expected: 403, headers: () => ({ 'x-api-key': apiKeys.viewer! }), world: () => a, applies: (r) => r.role !== null && r.role !== 'viewer' },
];

describe('the route table', () => {
  it('lists every route the Express app serves under /api/v1, and nothing it does not serve', () => {
    // Temporal's remote codec protocol (server/temporal/codec-server.ts) is served beside the API, not in its
    // table: it entitles per payload's tenant, which test/temporal-payloads.test.ts covers.
    const codecRoutes = `${CODEC_PATH.replace(/^\/api\/v1/, '')}/`;
    const served = expressRoutes(stack.app)
      .filter((r) => !r.split(' ')[1]!.startsWith(codecRoutes))
      .sort();
    expect(served.length).toBeGreaterThan(20);
    const listed = API_ROUTES.map(key).sort();
    expect(served.filter((r) => !listed.includes(r))).toEqual([]);
    expect(listed.filter((r) => !served.includes(r))).toEqual([]);
  });

  it('has a fixture for every route that takes path parameters, and a valid body for every such route with a body', () => {
    for (const route of API_ROUTES) {
      if (route.path.includes(':')) expect(() => fixtureFor(route)).not.toThrow();
      if (route.body) expect(() => bodyFor(route, a)).not.toThrow();
    }
  });

  it('marks every route that names a tenant-owned resource as takesId', () => {
    for (const route of API_ROUTES) if (route.path.includes(':')) expect({ route: key(route), takesId: route.takesId }).toEqual({ route: key(route), takesId: true });
  });
});

describe('isolation matrix', () => {
  const cells = API_ROUTES.flatMap((route) => CASES.filter((c) => c.applies(route)).map((c) => ({ route, c })));
  // Printed for the closing note: routes × cases that apply.
  console.log(`isolation matrix: ${API_ROUTES.length} routes × ${CASES.length} cases, ${cells.length} cells apply`);

  it.each(cells.map(({ route, c }) => [`${route.method.toUpperCase()} ${route.path}`, c.name, route, c] as const))('%s with %s', async (_label, _name, route, c) => {
    const world = c.world();
    const res = await stack.request(route.method.toUpperCase(), pathFor(route, world), { headers: c.headers(route), body: bodyFor(route, world) });
    expect({ status: res.status, body: res.body }).toMatchObject({ status: c.expected, body: { error: { code: expect.any(String), message: expect.any(String) } } });
  });

  it("lists nothing of another tenant's on any list route", async () => {
    const bIds = [b.workflowId, b.executionId, b.approvalExecutionId, b.memberId, b.apiKeyId, b.credentialId, b.exportId, b.deploymentId, b.owner.userId];
    const lists = API_ROUTES.filter((r) => r.method === 'get' && !r.path.includes(':') && r.role !== null);
    expect(lists.length).toBeGreaterThan(3);
    for (const route of lists) {
      const res = await stack.request('GET', `/api/v1${route.path}`, { token: a.owner.token });
      expect({ route: route.path, status: res.status }).toEqual({ route: route.path, status: 200 });
      const text = JSON.stringify(res.body);
      for (const id of bIds) expect({ route: route.path, leaked: text.includes(id) }).toEqual({ route: route.path, leaked: false });
    }
  });

  it("leaves the other tenant's resources untouched after every cross-tenant attempt", async () => {
    const t = b.owner.token;
    expect((await stack.request('GET', `/api/v1/workflows/${b.workflowId}`, { token: t })).body.name).toBe('Test workflow');
    expect((await stack.request('GET', `/api/v1/executions/${b.executionId}`, { token: t })).body.status).toBe('running');
    const approval = await stack.request('GET', `/api/v1/executions/${b.approvalExecutionId}`, { token: t });
    expect(approval.body.status).toBe('waiting');
    const users = await stack.request('GET', '/api/v1/users', { token: t });
    expect(users.body.users.find((u: { id: string }) => u.id === b.memberId)?.role).toBe('editor');
    const keys = await stack.request('GET', '/api/v1/api-keys', { token: t });
    expect(keys.body.apiKeys.find((k: { id: string }) => k.id === b.apiKeyId)?.revokedAt).toBeNull();
    const deployment = await stack.request('GET', `/api/v1/deployments/${b.deploymentId}`, { token: t });
    expect(deployment.status).toBe(200);
    expect(deployment.body.status ?? deployment.body.deployment?.status).toBe('succeeded');
    const creds = await stack.request('GET', '/api/v1/credentials', { token: t });
    expect(creds.body.credentials.map((c: { id: string }) => c.id)).toContain(b.credentialId);
    // The Temporal runs behind B's executions are still running: A's cancel and decision never reached them.
    for (const id of [b.executionId, b.approvalExecutionId]) {
      const described = await stack.temporal.workflow.getHandle(temporalWorkflowId(b.owner.tenantId, id)).describe();
      expect(described.status.name).toBe('RUNNING');
    }
  });
});
