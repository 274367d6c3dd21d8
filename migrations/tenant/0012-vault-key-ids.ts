// Tenant schema: which vault key sealed each secret (db/vault.ts), so ENCRYPTION_KEY can be rotated with
// ENCRYPTION_KEY_PREVIOUS and `npm run rotate-encryption-key`. Existing rows keep null: sealed before key ids,
// they are opened by trying the configured keys, and the rotation gives them the current key's id.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantVaultKeyIds0012 implements MigrationInterface {
  name = '0012-tenant-vault-key-ids';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table credentials add column key_id text`);
    await q.query(`alter table webhooks add column key_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`alter table webhooks drop column key_id`);
    await q.query(`alter table credentials drop column key_id`);
  }
}
