// The auth API end to end: a throwaway Postgres database, the real migrations, and HTTP against a
// listening Express app.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Redis from 'ioredis';
import jwt from 'jsonwebtoken';
import { Client } from 'pg';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../db/data-source';
import { migrateAll } from '../../db/migrator';
import { AccountRepository } from '../../db/repositories/accounts';
import { ApiKeyRepository } from '../../db/repositories/api-keys';
import { publicMigrations } from '../../migrations/public';
import { tenantMigrations } from '../../migrations/tenant';
import { createInvalidationBus } from '../cache/invalidation-bus';
import { errorHandler, notFoundHandler } from '../http/error-handler';
import { createAuthenticate } from './authenticate';
import { DEFAULT_KDF_QUEUE, DEFAULT_LOGIN_THROTTLE } from '../../core/login-limits';
import { createKdfQueue } from './kdf-queue';
import { createLoginThrottle } from './login-throttle';
import { principalOf } from './principal';
import { createAuthRouter } from './router';
import { createAuthService } from './service';
import { createSessionRevocations } from './session-revocations';
import { createTokenService, TOKEN_AUDIENCE, TOKEN_ISSUER } from './tokens';

const ADMIN_URL = process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const JWT_SECRET = 'router-test-secret-0123456789';
const dbName = `tessera_test_${randomBytes(6).toString('hex')}`;

let ds: DataSource;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(REDIS_URL, { lazyConnect: true });
const subscriber = new Redis(REDIS_URL, { lazyConnect: true });
let accounts: AccountRepository;
let server: Server;
let baseUrl: string;

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await admin(`create database ${dbName}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  ds = createDataSource(url.toString(), { poolSize: 5, applicationName: 'tessera-auth-test' });
  await ds.initialize();
  await migrateAll(ds, { public: publicMigrations, tenant: tenantMigrations });

  accounts = new AccountRepository(ds, tenantMigrations);
  const tokens = createTokenService({ jwtSecret: JWT_SECRET, accounts });
  await Promise.all([redis.connect(), subscriber.connect()]);
  const bus = createInvalidationBus({ redis, subscriber, onError: (err) => { throw err; }, channel: `${dbName}:invalidate` });
  const sessions = createSessionRevocations({ redis, bus, accessTtlSeconds: 900, onError: (err) => { throw err; }, prefix: `${dbName}:revoked-session:` });
  const throttle = createLoginThrottle(redis, DEFAULT_LOGIN_THROTTLE, `${dbName}:login`);
  const auth = createAuthService({ accounts, tokens, sessions, kdf: createKdfQueue(DEFAULT_KDF_QUEUE), throttle });
  const authenticate = createAuthenticate({ tokens, members: { current: (id) => accounts.currentMember(id) }, apiKeys: new ApiKeyRepository(ds), sessions });

  const app = express();
  app.use('/api/v1/auth', createAuthRouter({ auth, authenticate }));
  // What any protected route sees as its caller.
  app.get('/api/v1/whoami', authenticate, (req, res) => {
    res.json(principalOf(req));
  });
  app.get('/api/v1/boom', () => {
    throw new Error('relation "secret_table" does not exist at SELECT * FROM secret_table');
  });
  app.get('/api/v1/things/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.use(notFoundHandler);
  app.use(errorHandler(pino({ level: 'silent' })));

  server = app.listen(0);
  await new Promise<void>((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  redis.disconnect();
  subscriber.disconnect();
  // Tenant roles are cluster-wide (docs/security.md): note them before the database goes, drop them after.
  const roles: { role: string }[] = ds?.isInitialized ? await ds.query(`select schema_name as role from public.tenants`) : [];
  if (ds?.isInitialized) await ds.destroy();
  await admin(`drop database if exists ${dbName} with (force)`);
  for (const { role } of roles) await admin(`drop role if exists ${role}`);
});

interface ApiResponse {
  status: number;
  // The tests read whatever the API answered; each assertion states the shape it expects.
  body: any;
}

async function call(method: string, path: string, options: { body?: unknown; rawBody?: string; token?: string; contentType?: string } = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    body = options.rawBody ?? JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

let emailCounter = 0;
function uniqueEmail(): string {
  emailCounter += 1;
  return `user${emailCounter}-${randomBytes(3).toString('hex')}@example.com`;
}

async function register(overrides: Partial<{ tenantName: string; email: string; password: string; name: string }> = {}): Promise<ApiResponse> {
  const res = await call('POST', '/api/v1/auth/register', {
    body: { tenantName: 'Acme Corp', email: uniqueEmail(), password: 'correct horse battery', ...overrides },
  });
  expect(res.status).toBe(201);
  return res;
}

describe('POST /register', () => {
  it('creates the tenant, its owner and a migrated tenant schema, and signs the owner in', async () => {
    const res = await register({ tenantName: 'Globex Industries', email: '  Ada@Example.COM ', name: 'Ada' });
    expect(res.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      user: { id: expect.any(String), email: 'ada@example.com', name: 'Ada', role: 'owner' },
      tenant: { id: expect.any(String), slug: 'globex-industries', name: 'Globex Industries' },
    });

    const schema = `tenant_${(res.body.tenant.id as string).replace(/-/g, '')}`;
    const tables: { table_name: string }[] = await ds.query(
      'select table_name from information_schema.tables where table_schema = $1',
      [schema],
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['workflows', 'workflow_versions', 'executions', 'node_executions', 'migrations']),
    );
  });

  it('gives a second tenant of the same name a distinct slug', async () => {
    const first = await register({ tenantName: 'Initech' });
    const second = await register({ tenantName: 'Initech' });
    expect(first.body.tenant.slug).toBe('initech');
    expect(second.body.tenant.slug).toBe('initech-2');
    expect(second.body.tenant.id).not.toBe(first.body.tenant.id);
  });

  it('derives an ASCII slug from a Unicode tenant name', async () => {
    expect((await register({ tenantName: 'Café Ω' })).body.tenant.slug).toMatch(/^cafe(-\d+)?$/);
    expect((await register({ tenantName: 'Ωμέγα 株式会社' })).body.tenant.slug).toMatch(/^tenant(-\d+)?$/);
  });

  it('stores a salted scrypt hash rather than the password', async () => {
    const res = await register({ password: 'plain-text-never-stored' });
    const [row] = await ds.query('select password_hash from public.users where id = $1', [res.body.user.id]);
    expect(row.password_hash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$/);
    expect(row.password_hash).not.toContain('plain-text-never-stored');
  });

  it('answers 400 VALIDATION_FAILED with every issue', async () => {
    const res = await call('POST', '/api/v1/auth/register', { body: { tenantName: '', email: 'not-an-email', password: 'short' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const paths = (res.body.error.details.issues as { path: string; message: string; code: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(['body.email', 'body.password', 'body.tenantName']);
    for (const issue of res.body.error.details.issues) {
      expect(issue).toEqual({ path: expect.any(String), message: expect.any(String), code: expect.any(String) });
    }
  });

  it('answers 400 MALFORMED_JSON for a body that is not JSON', async () => {
    const res = await call('POST', '/api/v1/auth/register', { rawBody: '{"tenantName": "x",' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('MALFORMED_JSON');
  });

  it('answers 415 for a body of another media type', async () => {
    const res = await call('POST', '/api/v1/auth/register', { rawBody: 'tenantName=x', contentType: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 413 PAYLOAD_TOO_LARGE for an oversized body', async () => {
    const res = await call('POST', '/api/v1/auth/register', { body: { tenantName: 'x'.repeat(100_000), email: 'a@b.co', password: 'password123' } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('POST /login', () => {
  it('signs in with the right password, whatever the case of the email', async () => {
    const email = uniqueEmail();
    const reg = await register({ email, password: 'open sesame 1' });
    const res = await call('POST', '/api/v1/auth/login', { body: { email: email.toUpperCase(), password: 'open sesame 1' } });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual(reg.body.user);
    expect(res.body.tenant).toEqual(reg.body.tenant);
    expect((await call('GET', '/api/v1/auth/me', { token: res.body.accessToken })).status).toBe(200);
  });

  it('refuses a wrong password and an unknown email with the same 401 INVALID_CREDENTIALS', async () => {
    const email = uniqueEmail();
    await register({ email, password: 'open sesame 2' });
    const wrong = await call('POST', '/api/v1/auth/login', { body: { email, password: 'open sesame 3' } });
    const unknown = await call('POST', '/api/v1/auth/login', { body: { email: uniqueEmail(), password: 'open sesame 2' } });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    }
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
  });

  it('asks which tenant when the email belongs to several, then signs in to the chosen one', async () => {
    const email = uniqueEmail();
    const a = await register({ tenantName: 'Multi A', email, password: 'shared password' });
    const b = await register({ tenantName: 'Multi B', email, password: 'shared password' });

    const ambiguous = await call('POST', '/api/v1/auth/login', { body: { email, password: 'shared password' } });
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body.error.code).toBe('TENANT_REQUIRED');
    expect(ambiguous.body.error.details.tenants).toEqual([a.body.tenant.slug, b.body.tenant.slug].sort());

    const chosen = await call('POST', '/api/v1/auth/login', { body: { email, password: 'shared password', tenant: b.body.tenant.slug } });
    expect(chosen.status).toBe(200);
    expect(chosen.body.tenant.id).toBe(b.body.tenant.id);
    expect(chosen.body.user.id).toBe(b.body.user.id);
  });

  it('does not list the tenants of an email to someone without its password', async () => {
    const email = uniqueEmail();
    await register({ tenantName: 'Private A', email, password: 'shared password' });
    await register({ tenantName: 'Private B', email, password: 'shared password' });
    const res = await call('POST', '/api/v1/auth/login', { body: { email, password: 'a guess' } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    expect(JSON.stringify(res.body)).not.toContain('private');
  });

  it('refuses a tenant slug the email is not a member of', async () => {
    const email = uniqueEmail();
    await register({ email, password: 'open sesame 4' });
    const other = await register({ tenantName: 'Elsewhere' });
    const res = await call('POST', '/api/v1/auth/login', { body: { email, password: 'open sesame 4', tenant: other.body.tenant.slug } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
  });
});

describe('POST /refresh', () => {
  it('rotates: the new pair works and the spent refresh token is refused', async () => {
    const reg = await register();
    const first = await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: reg.body.refreshToken } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String) });
    expect(first.body.refreshToken).not.toBe(reg.body.refreshToken);
    expect((await call('GET', '/api/v1/auth/me', { token: first.body.accessToken })).status).toBe(200);

    const replay = await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: reg.body.refreshToken } });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('UNAUTHORIZED');
  });

  it('revokes the whole session when a spent token is reused, so the newest token stops working too', async () => {
    const reg = await register();
    const r1 = await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: reg.body.refreshToken } });
    const r2 = await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: r1.body.refreshToken } });
    expect(r2.status).toBe(200);

    expect((await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: reg.body.refreshToken } })).status).toBe(401);
    expect((await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: r2.body.refreshToken } })).status).toBe(401);
  });

  it('leaves the other sessions of the user alone when one session is revoked for reuse', async () => {
    const email = uniqueEmail();
    const reg = await register({ email, password: 'two devices' });
    const login = await call('POST', '/api/v1/auth/login', { body: { email, password: 'two devices' } });
    await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: reg.body.refreshToken } });
    await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: reg.body.refreshToken } });
    expect((await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } })).status).toBe(200);
  });

  it('refuses an unknown refresh token', async () => {
    const res = await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: randomBytes(32).toString('base64url') } });
    expect(res.status).toBe(401);
  });

  it('refuses an expired refresh token', async () => {
    const reg = await register();
    await ds.query(`update public.refresh_tokens set expires_at = now() - interval '1 second' where user_id = $1`, [reg.body.user.id]);
    expect((await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: reg.body.refreshToken } })).status).toBe(401);
  });

  it('carries the role the user has now into the new access token', async () => {
    const reg = await register();
    await ds.query(`update public.users set role = 'viewer' where id = $1`, [reg.body.user.id]);
    const res = await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: reg.body.refreshToken } });
    const payload = JSON.parse(Buffer.from(res.body.accessToken.split('.')[1], 'base64url').toString());
    expect(payload).toMatchObject({ sub: reg.body.user.id, tid: reg.body.tenant.id, role: 'viewer', iss: 'tessera', aud: 'tessera-api' });
  });
});

describe('POST /logout', () => {
  it('revokes the given refresh token', async () => {
    const reg = await register();
    const res = await call('POST', '/api/v1/auth/logout', { token: reg.body.accessToken, body: { refreshToken: reg.body.refreshToken } });
    expect(res.status).toBe(204);
    expect((await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: reg.body.refreshToken } })).status).toBe(401);
  });

  it('without a refresh token, ends every session of the caller', async () => {
    const email = uniqueEmail();
    const reg = await register({ email, password: 'many devices' });
    const login = await call('POST', '/api/v1/auth/login', { body: { email, password: 'many devices' } });
    expect((await call('POST', '/api/v1/auth/logout', { token: reg.body.accessToken })).status).toBe(204);
    expect((await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: reg.body.refreshToken } })).status).toBe(401);
    expect((await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } })).status).toBe(401);
  });

  it('cannot end someone else\'s session', async () => {
    const mine = await register();
    const theirs = await register();
    await call('POST', '/api/v1/auth/logout', { token: mine.body.accessToken, body: { refreshToken: theirs.body.refreshToken } });
    expect((await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: theirs.body.refreshToken } })).status).toBe(200);
  });

  it('needs an access token', async () => {
    const reg = await register();
    const res = await call('POST', '/api/v1/auth/logout', { body: { refreshToken: reg.body.refreshToken } });
    expect(res.status).toBe(401);
  });
});

describe('GET /me and authentication', () => {
  it('describes the caller with a valid access token', async () => {
    const reg = await register({ tenantName: 'Me Inc', name: 'Grace' });
    const res = await call('GET', '/api/v1/auth/me', { token: reg.body.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: reg.body.user, tenant: reg.body.tenant });
  });

  it('answers 401 UNAUTHORIZED without a token', async () => {
    const res = await call('GET', '/api/v1/auth/me');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it('answers 401 for a garbage token and for a token signed with another secret', async () => {
    const reg = await register();
    const forger = createTokenService({ jwtSecret: 'some-other-secret-0123456789', accounts });
    const forged = forger.signAccessToken({ userId: reg.body.user.id, tenantId: reg.body.tenant.id, role: 'owner', email: reg.body.user.email });
    for (const token of ['garbage', 'a.b.c', forged]) {
      const res = await call('GET', '/api/v1/auth/me', { token });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    }
  });

  it('answers 401 for a correctly signed token without exp (jsonwebtoken alone would take it as never expiring)', async () => {
    const reg = await register();
    const claims = { sub: reg.body.user.id, tid: reg.body.tenant.id, role: 'owner', email: reg.body.user.email };
    const forever = jwt.sign(claims, JWT_SECRET, { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
    const res = await call('GET', '/api/v1/auth/me', { token: forever });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
    // The same claims with an exp are accepted: the refusal is about exp and nothing else.
    const bounded = jwt.sign(claims, JWT_SECRET, { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, expiresIn: 60 });
    expect((await call('GET', '/api/v1/auth/me', { token: bounded })).status).toBe(200);
  });

  it('answers 401 for an expired token', async () => {
    const reg = await register();
    const anHourAgo = createTokenService({ jwtSecret: JWT_SECRET, accounts, now: () => new Date(Date.now() - 3600_000) });
    const expired = anHourAgo.signAccessToken({ userId: reg.body.user.id, tenantId: reg.body.tenant.id, role: 'owner', email: reg.body.user.email });
    const res = await call('GET', '/api/v1/auth/me', { token: expired });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'UNAUTHORIZED', message: 'access token expired' });
  });

  it('answers 401 for the token of a user who has been removed', async () => {
    const reg = await register();
    await ds.query('delete from public.users where id = $1', [reg.body.user.id]);
    expect((await call('GET', '/api/v1/auth/me', { token: reg.body.accessToken })).status).toBe(401);
    expect((await call('GET', '/api/v1/whoami', { token: reg.body.accessToken })).status).toBe(401);
  });

  it('gives routes the role the database holds now, not the one in the token', async () => {
    const reg = await register();
    await ds.query(`update public.users set role = 'editor' where id = $1`, [reg.body.user.id]);
    const res = await call('GET', '/api/v1/whoami', { token: reg.body.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ userId: reg.body.user.id, tenantId: reg.body.tenant.id, role: 'editor', email: reg.body.user.email, sessionId: expect.any(String) });
  });
});

describe('errors outside the auth routes', () => {
  it('answers 404 ROUTE_NOT_FOUND for an unknown route', async () => {
    const res = await call('GET', '/api/v1/nowhere');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('keeps the 400 of a URL parameter that cannot be decoded', async () => {
    const res = await call('GET', '/api/v1/things/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BAD_REQUEST');
  });

  it('answers 500 INTERNAL without leaking the error', async () => {
    const res = await call('GET', '/api/v1/boom');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'internal server error' } });
  });
});
