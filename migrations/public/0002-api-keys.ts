// Public schema, API keys: keys for programs, one tenant and one role each, stored only as a sha256 hash
// with a short visible prefix. In `public` because a request names no tenant before its key is found.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PublicApiKeys0002 implements MigrationInterface {
  name = '0002-public-api-keys';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table public.api_keys (
        id uuid primary key,
        tenant_id uuid not null references public.tenants(id) on delete cascade,
        name text not null,
        role text not null check (role in ('admin','editor','viewer')),
        prefix text not null,
        key_hash text not null unique,
        created_by uuid references public.users(id) on delete set null,
        created_at timestamptz not null default now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`create index api_keys_tenant_idx on public.api_keys (tenant_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table public.api_keys');
  }
}
