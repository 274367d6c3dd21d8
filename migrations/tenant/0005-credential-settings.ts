// Tenant schema: a credential may name the server it is for (an OpenAI-compatible gateway, a self-hosted
// model) and records when its secret was last replaced, so Settings can rotate a key in place.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantCredentialSettings0005 implements MigrationInterface {
  name = '0005-tenant-credential-settings';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table credentials add column base_url text`);
    await q.query(`alter table credentials add column rotated_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`alter table credentials drop column rotated_at`);
    await q.query(`alter table credentials drop column base_url`);
  }
}
