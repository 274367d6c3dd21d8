// Tenant schema: every execution records what started it (DESIGN.md §8 `trigger`); runs from before this
// migration were started by hand or through the API, and read as manual.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantExecutionTrigger0006 implements MigrationInterface {
  name = '0006-tenant-execution-trigger';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table executions add column trigger jsonb not null default '{"type":"manual"}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`alter table executions drop column trigger`);
  }
}
