// Runs a migration set against one schema: own `migrations` table per schema, one transaction,
// serialised across processes by a transaction-level advisory lock on the schema's name.
import type { DataSource, EntityManager, MigrationInterface } from 'typeorm';
import { tenantRoleName, tenantSchemaName } from './tenant-scope';

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
  // Checked first: `create schema if not exists` needs CREATE on the database even when the schema exists,
  // which a tenant role (migrating its own schema) does not have.
  const [present] = await manager.query(`select 1 from pg_namespace where nspname = $1`, [schema]);
  if (!present) await manager.query(`create schema ${schema}`);
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

/**
 * Makes sure a tenant's role exists, owns the tenant's schema and everything in it (tables created before
 * roles existed are handed over), then applies the pending tenant migrations *as that role*, so the login
 * role never owns a tenant table. The login role is made a member of the tenant role so that
 * TenantScope can `SET LOCAL ROLE` to it.
 */
export async function migrateTenantSchemaIn(manager: EntityManager, tenantId: string, migrations: MigrationInterface[]): Promise<MigrationReport> {
  const schema = tenantSchemaName(tenantId);
  const role = tenantRoleName(tenantId);
  await manager.query(`select pg_advisory_xact_lock(hashtext($1))`, [`tessera:migrate:${schema}`]);
  const [exists] = await manager.query(`select 1 from pg_roles where rolname = $1`, [role]);
  if (!exists) await manager.query(`create role ${role} nologin`);
  const [member] = await manager.query(`select pg_has_role(current_user, $1, 'MEMBER') as ok`, [role]);
  if (!member?.ok) await manager.query(`grant ${role} to current_user`);
  await manager.query(`create schema if not exists ${schema} authorization ${role}`);
  await manager.query(`alter schema ${schema} owner to ${role}`);
  const owned: { kind: string; name: string }[] = await manager.query(
    `select c.relkind as kind, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'S') and pg_get_userbyid(c.relowner) <> $2`,
    [schema, role],
  );
  for (const o of owned) {
    // Sequences owned by a table column follow their table; the rest are handed over one by one.
    const keyword = o.kind === 'S' ? 'sequence' : o.kind === 'v' ? 'view' : o.kind === 'm' ? 'materialized view' : 'table';
    const [dependent] =
      o.kind === 'S'
        ? await manager.query(
            `select 1 from pg_depend d join pg_class c on c.oid = d.objid join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = $1 and c.relname = $2 and d.deptype in ('a', 'i')`,
            [schema, o.name],
          )
        : [undefined];
    if (!dependent) await manager.query(`alter ${keyword} ${schema}."${o.name.replace(/"/g, '""')}" owner to ${role}`);
  }
  await manager.query(`set local role ${role}`);
  // No `finally`: after a failure the transaction is aborted and rolls back, role switch included.
  const report = await migrateSchemaIn(manager, schema, migrations);
  await manager.query('reset role');
  return report;
}

export async function migrateSchema(dataSource: DataSource, schema: string, migrations: MigrationInterface[]): Promise<MigrationReport> {
  return dataSource.transaction((manager) => migrateSchemaIn(manager, schema, migrations));
}

export interface MigrationSets {
  public: MigrationInterface[];
  tenant: MigrationInterface[];
}

/** Brings `public` and then every tenant's schema (and its role) up to date. */
export async function migrateAll(dataSource: DataSource, sets: MigrationSets): Promise<MigrationReport[]> {
  const reports = [await migrateSchema(dataSource, 'public', sets.public)];
  const tenants: { id: string }[] = await dataSource.query('select id from public.tenants order by created_at');
  for (const t of tenants) {
    reports.push(await dataSource.transaction((manager) => migrateTenantSchemaIn(manager, t.id, sets.tenant)));
  }
  return reports;
}
