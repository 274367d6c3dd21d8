// Tenant schema: fair share between tenants (core/run-admission.ts). `admitted_at` is when a top-level run got
// its slot; a pending run without it (and without a Temporal run) waits in the tenant's queue. Existing rows
// count as admitted, so an upgrade queues nothing that was already under way.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantRunQueue0010 implements MigrationInterface {
  name = '0010-tenant-run-queue';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table executions add column admitted_at timestamptz`);
    await q.query(`update executions set admitted_at = coalesce(started_at, created_at)`);
    // The queue in creation order, and the pending rows a sweep looks at (queued, or admitted and never started).
    await q.query(
      `create index executions_run_queue_idx on executions (created_at, id) where status = 'pending' and parent_execution_id is null and temporal_run_id is null`,
    );
    // The runs that may hold a slot, counted at every admission.
    await q.query(`create index executions_open_runs_idx on executions (status) where status in ('pending', 'running', 'waiting') and parent_execution_id is null`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop index executions_open_runs_idx`);
    await q.query(`drop index executions_run_queue_idx`);
    await q.query(`alter table executions drop column admitted_at`);
  }
}
