// What a user of the API does in tests: register a tenant, save a workflow, start a run, wait for it.
import { randomBytes, randomUUID } from 'node:crypto';
import { TERMINAL_EXECUTION_STATUSES } from '../../core/events';
import { hashPassword } from '../../server/auth/passwords';
import type { ApiClient, TestStack } from './stack';

export interface TestSession {
  token: string;
  /** Renews `token` when a poll meets it expired (suites that run with access tokens of a few seconds). */
  refreshToken?: string;
  tenantId: string;
  userId: string;
  email: string;
}

export async function registerTenant(stack: ApiClient, tenantName = `Acme ${randomBytes(3).toString('hex')}`): Promise<TestSession> {
  const email = `owner-${randomBytes(4).toString('hex')}@example.com`;
  let res = await stack.request('POST', '/api/v1/auth/register', { body: { tenantName, email, password: 'correct horse battery', name: 'Owner' } });
  // One client's password hashes run one at a time (LOGIN_KDF_*): a sign-up made alongside another is told to retry.
  for (let tries = 0; res.status === 429 && String(res.body?.error?.details?.limit).startsWith('loginKdf') && tries < 20; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    res = await stack.request('POST', '/api/v1/auth/register', { body: { tenantName, email, password: 'correct horse battery', name: 'Owner' } });
  }
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { token: res.body.accessToken, refreshToken: res.body.refreshToken, tenantId: res.body.tenant.id, userId: res.body.user.id, email };
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

const TERMINAL: readonly string[] = TERMINAL_EXECUTION_STATUSES;

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

/**
 * Reads `path` every `intervalMs` until it answers 200 with a body `done` accepts; fails after `timeoutMs`.
 * An answer no wait can change (400, 401 after a refused renewal, 403, 404) fails at once with its body, so a
 * broken precondition reads as itself instead of as a slow run.
 */
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
    const res = await getAs(stack, session, path);
    last = res.body;
    if (res.status === 200 && done(res.body)) return res.body;
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      throw new Error(`${path} answered ${res.status}, which waiting cannot change: ${JSON.stringify(res.body)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${path} did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
}

/** GET as `session`; an access token that expired meanwhile is renewed once with the session's refresh token. */
async function getAs(stack: Pick<TestStack, 'request'>, session: TestSession, path: string) {
  const res = await stack.request('GET', path, { token: session.token });
  if (res.status !== 401 || !session.refreshToken) return res;
  const renewed = await stack.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: session.refreshToken } });
  if (renewed.status !== 200) return res;
  session.token = renewed.body.accessToken;
  session.refreshToken = renewed.body.refreshToken;
  return stack.request('GET', path, { token: session.token });
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
  return { token: res.body.accessToken, refreshToken: res.body.refreshToken, tenantId: session.tenantId, userId: res.body.user.id, email };
}
