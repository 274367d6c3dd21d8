// Tenant schema: execution retention (core/retention.ts) walks a tenant's top-level runs by when they ended; this
// index lets each purge batch start where the last one stopped instead of scanning every run again.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantRetention0013 implements MigrationInterface {
  name = '0013-tenant-retention';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`create index executions_retention_idx on executions ((coalesce(finished_at, created_at)), id) where parent_execution_id is null`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop index executions_retention_idx`);
  }
}
