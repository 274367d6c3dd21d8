// Vault key rotation (`npm run rotate-encryption-key`, docs/security.md "Vault key rotation"): re-encrypts every
// tenant's sealed rows (credentials, webhook secrets) with the current ENCRYPTION_KEY, so the keys in
// ENCRYPTION_KEY_PREVIOUS can be dropped afterwards. Each batch is its own transaction and a row records its
// key, so a rotation that crashed resumes where it stopped; a session advisory lock makes a second one wait
// and then find nothing left to do.
import type { DataSource } from 'typeorm';
import { CredentialRepository } from './repositories/credentials';
import { WebhookRepository } from './repositories/webhooks';
import { TenantScope } from './tenant-scope';
import { Vault, type VaultKeyring } from './vault';

export interface TenantRotation {
  tenantId: string;
  credentials: number;
  webhooks: number;
}

export interface RotationReport {
  /** The id of the key everything is now sealed with. */
  keyId: string;
  tenants: TenantRotation[];
  credentials: number;
  webhooks: number;
  /** Rows still sealed under another key: held by a concurrent writer; running the command again finishes them. */
  left: number;
}

const ROTATION_LOCK = 'tessera:vault-rotation';

export async function rotateVaultKey(dataSource: DataSource, keys: VaultKeyring, say: (line: string) => void = () => {}): Promise<RotationReport> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    const [free] = await lock.query(`select pg_try_advisory_lock(hashtextextended($1, 0)) as ok`, [ROTATION_LOCK]);
    if (!free?.ok) {
      say('another rotation is running; waiting for it to finish');
      await lock.query(`select pg_advisory_lock(hashtextextended($1, 0))`, [ROTATION_LOCK]);
    }
    try {
      return await resealAll(dataSource, keys, say);
    } finally {
      await lock.query(`select pg_advisory_unlock(hashtextextended($1, 0))`, [ROTATION_LOCK]);
    }
  } finally {
    await lock.release();
  }
}

async function resealAll(dataSource: DataSource, keys: VaultKeyring, say: (line: string) => void): Promise<RotationReport> {
  const scope = new TenantScope(dataSource);
  const credentials = new CredentialRepository(scope, keys);
  const webhooks = new WebhookRepository(scope, keys);
  const tenantIds: { id: string }[] = await dataSource.query('select id from public.tenants order by created_at, id');
  const keyId = new Vault(keys).currentKeyId;
  const report: RotationReport = { keyId, tenants: [], credentials: 0, webhooks: 0, left: 0 };
  for (const { id: tenantId } of tenantIds) {
    const inTenant = (batch: () => Promise<number>) => () => scope.run(tenantId, batch);
    const done: TenantRotation = {
      tenantId,
      credentials: await untilNoneLeft(inTenant(() => credentials.resealUnderCurrentKey())),
      webhooks: await untilNoneLeft(inTenant(() => webhooks.resealUnderCurrentKey())),
    };
    if (done.credentials + done.webhooks > 0) say(`tenant ${tenantId}: ${done.credentials} credential(s), ${done.webhooks} webhook secret(s) re-encrypted`);
    report.tenants.push(done);
    report.credentials += done.credentials;
    report.webhooks += done.webhooks;
    // Rows a concurrent writer held (skip locked) are counted, so the report never claims a rotation it did not finish.
    report.left += await scope.run(tenantId, async (m) => {
      const [row] = await m.query(
        `select (select count(*) from credentials where key_id is distinct from $1) + (select count(*) from webhooks where key_id is distinct from $1) as left`,
        [keyId],
      );
      return Number(row.left);
    });
  }
  return report;
}

/** Runs one batch after another (each its own transaction) until one finds nothing; the rows done in all. */
async function untilNoneLeft(batch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let n = await batch(); n > 0; n = await batch()) total += n;
  return total;
}
