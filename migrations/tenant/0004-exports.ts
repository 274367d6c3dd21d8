// Tenant schema: exported Python packages (status, wheel checksum, build log, their own event log for the
// WebSocket) and their Docker deployments.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantExports0004 implements MigrationInterface {
  name = '0004-tenant-exports';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table exports (
        id uuid primary key,
        workflow_id uuid not null references workflows(id) on delete cascade,
        workflow_version int not null,
        status text not null,
        package_name text not null,
        module_name text not null,
        script_name text not null,
        version text not null,
        wheel_file text,
        sha256 text,
        size_bytes bigint,
        storage_path text,
        build_log text not null default '',
        error jsonb,
        temporal_workflow_id text not null,
        created_by text,
        last_seq int not null default 0,
        created_at timestamptz not null default now(),
        finished_at timestamptz
      )`);
    await q.query(`create index exports_workflow_idx on exports (workflow_id, created_at desc)`);
    await q.query(`
      create table export_events (
        export_id uuid not null references exports(id) on delete cascade,
        seq int not null,
        type text not null,
        at timestamptz not null,
        data jsonb,
        dedupe_key text,
        primary key (export_id, seq)
      )`);
    await q.query(`create unique index export_events_dedupe_idx on export_events (export_id, dedupe_key) where dedupe_key is not null`);
    await q.query(`
      create table deployments (
        id uuid primary key,
        export_id uuid not null references exports(id) on delete cascade,
        mode text not null,
        status text not null,
        inputs jsonb not null,
        base_image text not null,
        image_tag text,
        container_id text,
        container_port int,
        host_port int,
        exit_code int,
        outputs jsonb,
        logs text not null default '',
        error jsonb,
        temporal_workflow_id text not null,
        created_by text,
        created_at timestamptz not null default now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(`create index deployments_export_idx on deployments (export_id, created_at desc)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table deployments');
    await q.query('drop table export_events');
    await q.query('drop table exports');
  }
}
