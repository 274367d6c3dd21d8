// TRUST_PROXY: by default nobody's X-Forwarded-For is believed, so a client on the host cannot pick its own
// rate-limit key by sending a new address each time (issue 14; before, `trust proxy` was loopback). With the
// proxy configured, the forwarded address is the client's: the limit counts per forwarded address and the
// audit log records it. The forwarded addresses are documentation ranges in a header; traffic goes to loopback.
import { startTestStack, type TestStack } from './support/stack';
import { registerTenant } from './support/session';

jest.setTimeout(120_000);

const authPerIp = { limit: 3, windowSeconds: 600 };

async function loginsFrom(stack: TestStack, forwardedFor: string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const address of forwardedFor) {
    const res = await stack.request('POST', '/api/v1/auth/login', {
      headers: { 'x-forwarded-for': address },
      body: { email: 'nobody@example.com', password: 'not the password' },
    });
    statuses.push(res.status);
  }
  return statuses;
}

const addresses = ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4', '203.0.113.5'];

describe('with TRUST_PROXY unset', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ worker: false, rateLimits: { authPerIp } });
  });
  afterAll(() => stack?.close());

  it('counts every login from this host under one key, whatever X-Forwarded-For says', async () => {
    expect(await loginsFrom(stack, addresses)).toEqual([401, 401, 401, 429, 429]);
  });
});

describe('with TRUST_PROXY=loopback', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ worker: false, rateLimits: { authPerIp }, trustProxy: ['loopback'] });
  });
  afterAll(() => stack?.close());

  it('counts per forwarded address and records it in the audit log', async () => {
    expect(await loginsFrom(stack, addresses)).toEqual([401, 401, 401, 401, 401]);
    expect(await loginsFrom(stack, ['203.0.113.1', '203.0.113.1', '203.0.113.1'])).toEqual([401, 401, 429]);

    const owner = await registerTenant(stack);
    const res = await stack.request('POST', '/api/v1/api-keys', { token: owner.token, headers: { 'x-forwarded-for': '198.51.100.7' }, body: { name: 'ci', role: 'viewer' } });
    expect(res.status).toBe(201);
    const audit = await stack.request('GET', '/api/v1/tenant/audit-log', { token: owner.token });
    expect(audit.status).toBe(200);
    const created = (audit.body.entries as { action: string; ip: string | null }[]).find((e) => e.action === 'api_key.create');
    expect(created?.ip).toBe('198.51.100.7');
  });
});
