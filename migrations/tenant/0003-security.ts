// Tenant schema, security: the credentials vault (provider keys encrypted with AES-256-GCM; the plaintext
// is never stored) and the audit log (who did what, from where).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantSecurity0003 implements MigrationInterface {
  name = '0003-tenant-security';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table credentials (
        id uuid primary key,
        provider text not null,
        name text not null,
        ciphertext bytea not null,
        iv bytea not null,
        tag bytea not null,
        created_by uuid,
        created_at timestamptz not null default now()
      )`);
    await q.query(`
      create table audit_log (
        id bigserial primary key,
        at timestamptz not null default now(),
        actor_type text not null,
        actor_id text,
        action text not null,
        target_type text,
        target_id text,
        ip text,
        details jsonb not null default '{}'::jsonb
      )`);
    await q.query(`create index audit_log_at_idx on audit_log (at desc)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table audit_log');
    await q.query('drop table credentials');
  }
}
