// What operators and API users see besides the resources: health checks, the OpenAPI document generated
// from the zod schemas, Swagger UI, Prometheus metrics, request ids.
import { API_ROUTES, openApiPath } from '../server/openapi';
import { expressRoutes } from './support/express-routes';
import { CODEC_PATH } from '../server/temporal/codec-server';
import { fanOutGraph } from './fixtures/graphs';
import { createWorkflow, registerTenant, startRun } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});

afterAll(async () => {
  await stack?.close();
});

it('answers liveness, and readiness with a check of the database, Redis and Temporal', async () => {
  expect((await stack.request('GET', '/health/live')).status).toBe(200);
  const ready = await stack.request('GET', '/health/ready');
  expect(ready.status).toBe(200);
  expect(Object.keys(ready.body.checks).sort()).toEqual(['database', 'redis', 'temporal']);
  expect(Object.values(ready.body.checks).every((c: any) => c.ok)).toBe(true);
});

it('reports not ready, naming the failing dependency, when Redis is gone', async () => {
  const probe = await startTestStack({ worker: false });
  probe.redis.disconnect();
  const ready = await probe.request('GET', '/health/ready');
  expect(ready.status).toBe(503);
  expect(ready.body.checks.redis.ok).toBe(false);
  expect(ready.body.checks.database.ok).toBe(true);
  await probe.close();
});

it('records a start that cannot reach Temporal as failed (503), never as a pending row', async () => {
  const probe = await startTestStack({ worker: false });
  const owner = await registerTenant(probe);
  const workflowId = await createWorkflow(probe, owner, fanOutGraph(0));
  await probe.temporal.connection.close();

  const run = await probe.request('POST', `/api/v1/workflows/${workflowId}/executions`, { token: owner.token, body: { inputs: { topic: 'x' } } });
  expect(run.status).toBe(503);
  expect(run.body.error.code).toBe('TEMPORAL_UNAVAILABLE');
  const runs = await probe.request('GET', `/api/v1/executions?workflowId=${workflowId}`, { token: owner.token });
  expect(runs.body.items.map((e: any) => [e.status, e.error?.code])).toEqual([['failed', 'START_FAILED']]);

  const exp = await probe.request('POST', `/api/v1/workflows/${workflowId}/exports`, { token: owner.token, body: {} });
  expect(exp.status).toBe(503);
  const [row] = await probe.db.dataSource.query(
    `select status, error from ${'tenant_' + owner.tenantId.replace(/-/g, '')}.exports`,
  );
  expect(row).toMatchObject({ status: 'failed', error: { code: 'START_FAILED' } });
  await probe.close();
});

it('documents every API route in the OpenAPI document, with request bodies from the zod schemas', async () => {
  const doc = await stack.request('GET', '/api/openapi.json');
  expect(doc.status).toBe(200);
  expect(doc.body.openapi).toBe('3.1.0');
  for (const route of API_ROUTES) {
    const path = `/api/v1${route.path.replace(/:(\w+)/g, '{$1}')}`;
    expect(doc.body.paths[path]?.[route.method]).toBeDefined();
  }
  const create = doc.body.paths['/api/v1/workflows'].post.requestBody.content['application/json'].schema;
  expect(create.required).toEqual(expect.arrayContaining(['name', 'graph']));
  const start = doc.body.paths['/api/v1/workflows/{id}/executions'].post;
  expect(start.parameters.map((p: any) => p.name)).toContain('Idempotency-Key');
});

it('documents exactly the routes the app serves: each served route is in the OpenAPI document, and each documented one is served', async () => {
  const doc = await stack.request('GET', '/api/openapi.json');
  const documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))
    .sort();
  // Temporal's remote codec protocol (server/temporal/codec-server.ts) is served beside the API, not in its
  // document: Temporal defines it, and test/temporal-payloads.test.ts covers it.
  const served = expressRoutes(stack.app)
    .map((r) => {
      const [method, path] = r.split(' ') as [string, string];
      return `${method} ${openApiPath({ path })}`;
    })
    .filter((r) => !r.split(' ')[1]!.startsWith(`${CODEC_PATH}/`));
  expect(served.length).toBeGreaterThan(20);
  expect(new Set(served).size).toBe(served.length);
  expect([...served].sort()).toEqual(documented);
  // Each operation says what it answers, and routes behind a role say which.
  for (const route of API_ROUTES) {
    const op = doc.body.paths[openApiPath(route)][route.method];
    expect({ route: `${route.method} ${route.path}`, answer: op.responses[String(route.status)]?.description }).toEqual({ route: `${route.method} ${route.path}`, answer: route.response });
    if (route.role) expect(op.description).toContain(route.role);
  }
});

it('serves Swagger UI at /api/docs', async () => {
  const res = await fetch(`${stack.baseUrl}/api/docs/`);
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('swagger-ui');
});

it('counts requests by route pattern and run starts in /metrics', async () => {
  const owner = await registerTenant(stack);
  const workflowId = await createWorkflow(stack, owner, fanOutGraph(0));
  await startRun(stack, owner, workflowId, { topic: 'metrics' });
  const res = await fetch(`${stack.baseUrl}/metrics`);
  const text = await res.text();
  expect(res.headers.get('content-type')).toContain('text/plain');
  expect(text).toMatch(/tessera_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/workflows\/:id\/executions",status="202"\} 1/);
  expect(text).toMatch(/tessera_runs_started_total\{created="true",trigger="manual"\} 1/);
  expect(text).not.toContain(workflowId);
});

it('echoes a request id on every answer', async () => {
  const res = await stack.request('GET', '/health/live', { headers: { 'x-request-id': 'trace-me-123' } });
  expect(res.headers.get('x-request-id')).toBe('trace-me-123');
  expect((await stack.request('GET', '/health/live')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});
