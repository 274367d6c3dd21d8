// Runs a migration set against one schema: own `migrations` table per schema, one transaction,
// serialised across processes by a transaction-level advisory lock on the schema's name.
import type { DataSource, EntityManager, MigrationInterface } from 'typeorm';
import { tenantSchemaName } from './tenant-scope';

export interface MigrationReport {
  schema: string;
  applied: string[];
}

function migrationName(m: MigrationInterface): string {
  if (!m.name) throw new Error('every migration needs a name');
  return m.name;
}

/** Applies the pending migrations of `migrations` to `schema` inside the caller's transaction. */
export async function migrateSchemaIn(manager: EntityManager, schema: string, migrations: MigrationInterface[]): Promise<MigrationReport> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`bad schema name ${schema}`);
  await manager.query(`select pg_advisory_xact_lock(hashtext($1))`, [`tessera:migrate:${schema}`]);
  await manager.query(`create schema if not exists ${schema}`);
  await manager.query(`select set_config('search_path', $1, true)`, [schema === 'public' ? 'public' : `${schema}, public`]);
  await manager.query(`create table if not exists ${schema}.migrations (name text primary key, run_at timestamptz not null default now())`);
  const done = new Set<string>((await manager.query(`select name from ${schema}.migrations`)).map((r: { name: string }) => r.name));
  const applied: string[] = [];
  const runner = manager.queryRunner;
  if (!runner) throw new Error('migrations need a transaction with a query runner');
  for (const m of migrations) {
    const name = migrationName(m);
    if (done.has(name)) continue;
    await m.up(runner);
    await manager.query(`insert into ${schema}.migrations (name) values ($1)`, [name]);
    applied.push(name);
  }
  return { schema, applied };
}

export async function migrateSchema(dataSource: DataSource, schema: string, migrations: MigrationInterface[]): Promise<MigrationReport> {
  return dataSource.transaction((manager) => migrateSchemaIn(manager, schema, migrations));
}

export interface MigrationSets {
  public: MigrationInterface[];
  tenant: MigrationInterface[];
}

/** Brings `public` and then every tenant's schema up to date. */
export async function migrateAll(dataSource: DataSource, sets: MigrationSets): Promise<MigrationReport[]> {
  const reports = [await migrateSchema(dataSource, 'public', sets.public)];
  const tenants: { id: string }[] = await dataSource.query('select id from public.tenants order by created_at');
  for (const t of tenants) {
    reports.push(await migrateSchema(dataSource, tenantSchemaName(t.id), sets.tenant));
  }
  return reports;
}
