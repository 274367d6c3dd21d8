// Tenant schema, first version: workflows with versions, executions, node state and the event log.
// Tables are created unqualified: the migrator sets search_path to the tenant's schema.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantInitial0001 implements MigrationInterface {
  name = '0001-tenant-initial';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table workflows (
        id uuid primary key,
        name text not null,
        description text not null default '',
        current_version int not null,
        created_by uuid,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    await q.query(`
      create table workflow_versions (
        workflow_id uuid not null references workflows(id) on delete cascade,
        version int not null,
        graph jsonb not null,
        created_by uuid,
        created_at timestamptz not null default now(),
        primary key (workflow_id, version)
      )`);
    await q.query(`
      create table executions (
        id uuid primary key,
        workflow_id uuid not null references workflows(id) on delete cascade,
        workflow_version int not null,
        status text not null,
        inputs jsonb not null,
        outputs jsonb,
        error jsonb,
        plan jsonb not null,
        usage jsonb not null default '{"inputTokens":0,"outputTokens":0,"totalTokens":0}',
        idempotency_key text unique,
        temporal_workflow_id text not null,
        temporal_run_id text,
        started_by text,
        last_seq int not null default 0,
        created_at timestamptz not null default now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(`create index executions_workflow_idx on executions (workflow_id, created_at desc)`);
    await q.query(`create index executions_status_idx on executions (status, created_at desc)`);
    await q.query(`
      create table node_executions (
        execution_id uuid not null references executions(id) on delete cascade,
        node_id text not null,
        node_type text not null,
        status text not null,
        attempts int not null default 0,
        input jsonb,
        output jsonb,
        error jsonb,
        usage jsonb,
        started_at timestamptz,
        finished_at timestamptz,
        primary key (execution_id, node_id)
      )`);
    await q.query(`
      create table execution_events (
        execution_id uuid not null references executions(id) on delete cascade,
        seq int not null,
        type text not null,
        node_id text,
        at timestamptz not null,
        data jsonb,
        dedupe_key text,
        primary key (execution_id, seq),
        unique (execution_id, dedupe_key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['execution_events', 'node_executions', 'executions', 'workflow_versions', 'workflows']) {
      await q.query(`drop table ${t}`);
    }
  }
}
