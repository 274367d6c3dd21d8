// Vault key rotation against a real PostgreSQL: secrets sealed under key A still open with A in
// ENCRYPTION_KEY_PREVIOUS and B as ENCRYPTION_KEY; `npm run rotate-encryption-key` (the real script, twice at
// once) re-encrypts every tenant's credentials and webhook secrets with B, after which A can be dropped; a key
// that is not configured is a readable error, never garbage; and a tenant never opens another's secret.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { AccountRepository, CredentialRepository, TenantScope, vaultKeyId, VaultKeyError, WorkflowRepository } from '../db';
import { WebhookRepository } from '../db/repositories/webhooks';
import { tenantMigrations } from '../migrations/tenant';
import { singleAgentGraph } from './fixtures/graphs';
import { createTestDatabase, type TestDatabase } from './support/database';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..');
const KEY_A = `key-a-${randomBytes(16).toString('hex')}`;
const KEY_B = `key-b-${randomBytes(16).toString('hex')}`;
const KEY_C = `key-c-${randomBytes(16).toString('hex')}`;

interface Sealed {
  tenantId: string;
  credentials: { id: string; secret: string }[];
  webhooks: { id: string; secret: string }[];
}

let db: TestDatabase;
let scope: TenantScope;
const tenants: Sealed[] = [];

/** Runs the real command, as `npm run rotate-encryption-key` does, with the given keys. */
async function rotate(env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'rotate-encryption-key.ts')], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url, JWT_SECRET: 'a-jwt-secret-of-enough-length', ...env },
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

/** What `reveal` gives for every secret of every tenant under `keys` (an error's message where it throws). */
async function openAll(keys: { current: string; previous: string[] }): Promise<string[]> {
  const opened: string[] = [];
  for (const t of tenants) {
    await scope.run(t.tenantId, async () => {
      const credentials = new CredentialRepository(scope, keys);
      const hooks = new WebhookRepository(scope, keys);
      for (const c of t.credentials) opened.push(await credentials.reveal(c.id, null).then((r) => r!.secret, (e: Error) => e.message));
      for (const h of t.webhooks) opened.push(await hooks.reveal(h.id).then((r) => r!.secret, (e: Error) => e.message));
    });
  }
  return opened;
}

const allSecrets = () => tenants.flatMap((t) => [...t.credentials, ...t.webhooks].map((s) => s.secret));

/** The key ids recorded by every sealed row of every tenant. */
async function keyIds(): Promise<(string | null)[]> {
  const ids: (string | null)[] = [];
  for (const t of tenants) {
    await scope.run(t.tenantId, async (m) => {
      const rows: { key_id: string | null }[] = await m.query(`select key_id from credentials union all select key_id from webhooks`);
      ids.push(...rows.map((r) => r.key_id));
    });
  }
  return ids;
}

beforeAll(async () => {
  db = await createTestDatabase();
  scope = new TenantScope(db.dataSource);
  const accounts = new AccountRepository(db.dataSource, tenantMigrations);
  for (let n = 0; n < 3; n++) {
    const slug = `vault-${randomBytes(4).toString('hex')}`;
    const { tenant } = await accounts.provisionTenant({ tenantName: slug, slug, owner: { email: `${slug}@example.com`, name: 'Owner', passwordHash: 'x' } });
    const sealed: Sealed = { tenantId: tenant.id, credentials: [], webhooks: [] };
    await scope.run(tenant.id, async (m) => {
      const credentials = new CredentialRepository(scope, KEY_A);
      for (let i = 0; i < 4; i++) {
        const secret = `sk-${tenant.id}-${i}`;
        sealed.credentials.push({ id: (await credentials.create({ provider: 'openai', name: `key ${i}`, secret, createdBy: null })).id, secret });
      }
      const { workflow } = await new WorkflowRepository(scope).create({ name: 'hooked', graph: singleAgentGraph({ provider: 'openai', model: 'gpt-4o-mini' }) as never, createdBy: null });
      const hook = { id: randomUUID(), secret: `whsec_${randomBytes(8).toString('hex')}` };
      await new WebhookRepository(scope, KEY_A).create({ id: hook.id, workflowId: workflow.id, secret: hook.secret, createdBy: null });
      sealed.webhooks.push(hook);
      // A row from before key ids (tenant migration 0012): the rotation must find it by trying the keys.
      await m.query(`update credentials set key_id = null where id = $1`, [sealed.credentials[0]!.id]);
    });
    tenants.push(sealed);
  }
});

afterAll(async () => {
  await db?.drop();
});

describe('vault key rotation', () => {
  it('records the key of every new ciphertext, and opens them with A as previous and B as current', async () => {
    const idA = vaultKeyId(KEY_A);
    expect(idA).toMatch(/^[0-9a-f]{16}$/);
    // Per tenant: the row from before key ids, and four rows under A (three credentials and the hook).
    const ids = await keyIds();
    expect(ids.filter((id) => id === null)).toHaveLength(3);
    expect(ids.filter((id) => id === idA)).toHaveLength(12);
    expect(await openAll({ current: KEY_B, previous: [KEY_A] })).toEqual(allSecrets());
  });

  it('is a readable error when the key that sealed a secret is not configured, never a wrong secret', async () => {
    const t = tenants[0]!;
    await scope.run(t.tenantId, async () => {
      const credentials = new CredentialRepository(scope, { current: KEY_B, previous: [KEY_C] });
      const withKeyId = credentials.reveal(t.credentials[1]!.id, null);
      await expect(withKeyId).rejects.toThrow(VaultKeyError);
      await expect(credentials.reveal(t.credentials[1]!.id, null)).rejects.toThrow(
        `credential ${t.credentials[1]!.id} was encrypted with vault key ${vaultKeyId(KEY_A)}, which is neither ENCRYPTION_KEY (key ${vaultKeyId(KEY_B)}) nor in ENCRYPTION_KEY_PREVIOUS`,
      );
      await expect(credentials.reveal(t.credentials[0]!.id, null)).rejects.toThrow(/predates vault key ids and decrypts under none of ENCRYPTION_KEY and ENCRYPTION_KEY_PREVIOUS/);
      await expect(new WebhookRepository(scope, KEY_C).reveal(t.webhooks[0]!.id)).rejects.toThrow(/^webhook .* was encrypted with vault key/);
    });
    // A command with the wrong keys stops at the first secret it cannot open, says why, and changes nothing.
    const wrong = await rotate({ ENCRYPTION_KEY: KEY_B, ENCRYPTION_KEY_PREVIOUS: KEY_C });
    expect(wrong.code).toBe(1);
    expect(wrong.output).toMatch(/rotate-encryption-key failed: credential [0-9a-f-]+ (predates vault key ids|was encrypted with vault key)/);
    expect((await keyIds()).filter((id) => id === vaultKeyId(KEY_B))).toEqual([]);
  });

  it("never opens another tenant's secret", async () => {
    const [first, second] = tenants as [Sealed, Sealed];
    await scope.run(second.tenantId, async () => {
      expect(await new CredentialRepository(scope, { current: KEY_B, previous: [KEY_A] }).reveal(first.credentials[1]!.id, null)).toBeNull();
      expect(await new WebhookRepository(scope, KEY_A).reveal(first.webhooks[0]!.id)).toBeNull();
    });
  });

  it('re-encrypts every tenant with B, resuming after a partial run and safe twice at once; then A can be dropped', async () => {
    // A rotation that crashed after the first tenant: its rows are already under B.
    const done = tenants[0]!;
    await scope.run(done.tenantId, async () => {
      const keys = { current: KEY_B, previous: [KEY_A] };
      expect(await new CredentialRepository(scope, keys).resealUnderCurrentKey()).toBe(4);
      expect(await new WebhookRepository(scope, keys).resealUnderCurrentKey()).toBe(1);
    });

    const env = { ENCRYPTION_KEY: KEY_B, ENCRYPTION_KEY_PREVIOUS: `${KEY_C},${KEY_A}` };
    const runs = await Promise.all([rotate(env), rotate(env)]);
    for (const run of runs) expect(run.code).toBe(0);
    const counts = runs.map((run) => {
      const m = /re-encrypted (\d+) credential\(s\) and (\d+) webhook secret\(s\) in 3 tenant\(s\) with vault key ([0-9a-f]{16}); 0 left under other keys/.exec(run.output);
      expect(m).not.toBeNull();
      expect(m![3]).toBe(vaultKeyId(KEY_B));
      return [Number(m![1]), Number(m![2])];
    });
    // The two tenants left, once in all: one run did them, the other waited and found nothing.
    expect(counts.map(([c]) => c).sort()).toEqual([0, 8]);
    expect(counts.map(([, w]) => w).sort()).toEqual([0, 2]);

    expect(await keyIds()).toEqual(tenants.flatMap(() => Array(5).fill(vaultKeyId(KEY_B))));
    expect(await openAll({ current: KEY_B, previous: [] })).toEqual(allSecrets());
    expect((await openAll({ current: KEY_A, previous: [] })).every((m) => /was encrypted with vault key/.test(m))).toBe(true);

    const again = await rotate({ ENCRYPTION_KEY: KEY_B });
    expect(again.code).toBe(0);
    expect(again.output).toContain(`re-encrypted 0 credential(s) and 0 webhook secret(s) in 3 tenant(s) with vault key ${vaultKeyId(KEY_B)}; 0 left under other keys`);
  });
});
