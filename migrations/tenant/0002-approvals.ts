// Tenant schema: approvals (one row per approval node reached by a run) and who cancelled a run.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantApprovals0002 implements MigrationInterface {
  name = '0002-tenant-approvals';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table approvals (
        id uuid primary key,
        execution_id uuid not null references executions(id) on delete cascade,
        workflow_id uuid not null,
        node_id text not null,
        title text not null,
        instructions text,
        assignee_role text,
        quorum int not null default 1,
        form jsonb,
        context jsonb,
        status text not null,
        decisions jsonb not null default '[]',
        requested_at timestamptz not null,
        expires_at timestamptz,
        decided_at timestamptz,
        unique (execution_id, node_id)
      )`);
    await q.query(`create index approvals_status_idx on approvals (status, requested_at desc)`);
    await q.query(`alter table executions add column cancelled_by text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('alter table executions drop column cancelled_by');
    await q.query('drop table approvals');
  }
}
