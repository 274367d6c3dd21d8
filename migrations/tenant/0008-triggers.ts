// Tenant schema: a workflow's triggers other than a person or a program (DESIGN.md §8 "Triggers and re-runs").
// A schedule lives in Temporal (a Temporal Schedule); its row here is what a tenant lists and what scopes it.
// A webhook's secret is kept sealed (AES-256-GCM under the vault's key), since checking a signature needs it.
// Both go with their workflow (on delete cascade); the workflow service deletes the Temporal schedules too.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantTriggers0008 implements MigrationInterface {
  name = '0008-tenant-triggers';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table schedules (
        id uuid primary key,
        workflow_id uuid not null references workflows(id) on delete cascade,
        spec jsonb not null,
        inputs jsonb not null default '{}',
        paused boolean not null default false,
        created_by text,
        created_at timestamptz not null default now()
      )`);
    await q.query(`create index schedules_workflow_idx on schedules (workflow_id)`);
    await q.query(`
      create table webhooks (
        id uuid primary key,
        workflow_id uuid not null references workflows(id) on delete cascade,
        ciphertext bytea not null,
        iv bytea not null,
        tag bytea not null,
        created_by text,
        created_at timestamptz not null default now()
      )`);
    await q.query(`create index webhooks_workflow_idx on webhooks (workflow_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table webhooks');
    await q.query('drop table schedules');
  }
}
