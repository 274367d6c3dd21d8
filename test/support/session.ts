// What a user of the API does in tests: register a tenant, save a workflow, start a run, wait for it.
import { randomBytes, randomUUID } from 'node:crypto';
import { hashPassword } from '../../server/auth/passwords';
import type { ApiClient, TestStack } from './stack';

export interface TestSession {
  token: string;
  tenantId: string;
  userId: string;
  email: string;
}

export async function registerTenant(stack: ApiClient, tenantName = `Acme ${randomBytes(3).toString('hex')}`): Promise<TestSession> {
  const email = `owner-${randomBytes(4).toString('hex')}@example.com`;
  const res = await stack.request('POST', '/api/v1/auth/register', { body: { tenantName, email, password: 'correct horse battery', name: 'Owner' } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { token: res.body.accessToken, tenantId: res.body.tenant.id, userId: res.body.user.id, email };
}

export async function createWorkflow(stack: ApiClient, session: TestSession, graph: unknown, name = 'Test workflow'): Promise<string> {
  const res = await stack.request('POST', '/api/v1/workflows', { token: session.token, body: { name, graph } });
  if (res.status !== 201) throw new Error(`create workflow failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

export async function startRun(stack: ApiClient, session: TestSession, workflowId: string, inputs: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<string> {
  const res = await stack.request('POST', `/api/v1/workflows/${workflowId}/executions`, { token: session.token, body: { inputs }, headers });
  if (res.status !== 202) throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out'];

/** Polls GET /executions/:id until `done` holds (default: a terminal status). */
export async function waitForExecution(
  stack: ApiClient,
  session: TestSession,
  executionId: string,
  done: (e: any) => boolean = (e) => TERMINAL.includes(e.status),
  timeoutMs = 60_000,
): Promise<any> {
  return pollResource(stack, session, `/api/v1/executions/${executionId}`, done, timeoutMs, 150);
}

/** Reads `path` every `intervalMs` until it answers 200 with a body `done` accepts; fails after `timeoutMs`. */
export async function pollResource(
  stack: ApiClient,
  session: TestSession,
  path: string,
  done: (body: any) => boolean,
  timeoutMs: number,
  intervalMs: number,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await stack.request('GET', path, { token: session.token });
    last = res.body;
    if (res.status === 200 && done(res.body)) return res.body;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${path} did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
}

/** Adds a member with `role` to the session's tenant (straight into the database) and logs them in. */
export async function addMember(stack: TestStack, session: TestSession, role: 'owner' | 'admin' | 'editor' | 'viewer'): Promise<TestSession> {
  const email = `${role}-${randomBytes(4).toString('hex')}@example.com`;
  const password = 'member password 123';
  await stack.db.dataSource.query(
    'insert into public.users (id, tenant_id, email, name, password_hash, role) values ($1, $2, $3, $4, $5, $6)',
    [randomUUID(), session.tenantId, email, role, await hashPassword(password), role],
  );
  const [{ slug }] = await stack.db.dataSource.query('select slug from public.tenants where id = $1', [session.tenantId]);
  const res = await stack.request('POST', '/api/v1/auth/login', { body: { email, password, tenant: slug } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { token: res.body.accessToken, tenantId: session.tenantId, userId: res.body.user.id, email };
}
