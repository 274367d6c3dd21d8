// Tenant schema: a deleted workflow keeps its history. Its row stays, marked deleted (TypeORM's soft delete), so
// its runs, exports and deployments, which reference it on delete cascade, stay readable; every read of workflows
// leaves marked rows out (db/repositories/workflows.ts).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantWorkflowDeletion0011 implements MigrationInterface {
  name = '0011-tenant-workflow-deletion';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table workflows add column deleted_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`alter table workflows drop column deleted_at`);
  }
}
