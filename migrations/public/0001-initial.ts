// Public schema, first version: tenants, users (one row per tenant membership) and refresh tokens.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PublicInitial0001 implements MigrationInterface {
  name = '0001-public-initial';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table public.tenants (
        id uuid primary key,
        slug text not null unique,
        name text not null,
        schema_name text not null unique,
        created_at timestamptz not null default now()
      )`);
    await q.query(`
      create table public.users (
        id uuid primary key,
        tenant_id uuid not null references public.tenants(id) on delete cascade,
        email text not null,
        name text not null,
        password_hash text not null,
        role text not null check (role in ('owner','admin','editor','viewer')),
        created_at timestamptz not null default now(),
        unique (tenant_id, email)
      )`);
    await q.query(`create index users_email_idx on public.users (email)`);
    await q.query(`
      create table public.refresh_tokens (
        id uuid primary key,
        user_id uuid not null references public.users(id) on delete cascade,
        tenant_id uuid not null references public.tenants(id) on delete cascade,
        family_id uuid not null,
        token_hash text not null unique,
        expires_at timestamptz not null,
        revoked_at timestamptz,
        created_at timestamptz not null default now()
      )`);
    await q.query(`create index refresh_tokens_family_idx on public.refresh_tokens (family_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table public.refresh_tokens');
    await q.query('drop table public.users');
    await q.query('drop table public.tenants');
  }
}
