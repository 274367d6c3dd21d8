// Tenant schema: an execution may be a child of another (a subflow, a map item, a workflow tool; DESIGN.md §8
// `parentExecutionId`) or a re-run of another (`retryOf`). Both are links inside the tenant's own schema.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantExecutionLinks0009 implements MigrationInterface {
  name = '0009-tenant-execution-links';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table executions add column parent_execution_id uuid references executions(id) on delete cascade`);
    await q.query(`alter table executions add column retry_of uuid references executions(id) on delete set null`);
    await q.query(`create index executions_parent_idx on executions (parent_execution_id) where parent_execution_id is not null`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop index executions_parent_idx`);
    await q.query(`alter table executions drop column retry_of`);
    await q.query(`alter table executions drop column parent_execution_id`);
  }
}
