// Backup and restore of one tenant (docs/operations.md "Backup and restore of a tenant"): its schema (pg_dump
// -n, custom format), the public rows that make it a tenant (its tenant row, members, API keys, webhook routes;
// not sessions), and its wheels in the artifact store, in one directory with a manifest written last. The public
// rows are read in the snapshot pg_dump dumps from, so both halves show the same moment.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { storeArtifact } from '../activities/export/store-artifact';
import { createDataSource, isTenantId, migrateSchema, migrateTenantSchemaIn, tenantSchemaName } from '../db';
import { publicMigrations } from '../migrations/public';
import { tenantMigrations } from '../migrations/tenant';
import { ensureDatabase } from './ensure-database';

const run = promisify(execFile);

export const BACKUP_FORMAT = 'tessera-tenant-backup';
export const BACKUP_VERSION = 1;
const MANIFEST = 'manifest.json';
const SCHEMA_DUMP = 'schema.dump';
const PUBLIC_ROWS = 'public.json';

/** A refusal with a message for the person at the terminal (the CLIs print it and exit 2). */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  tenantId: string;
  slug: string;
  schema: string;
  createdAt: string;
  /** The tenant schema's migrations at backup time. */
  migrations: string[];
  /** Wheels of the tenant's exports, relative to DATA_DIR and to the backup directory. */
  artifacts: Array<{ storagePath: string; sha256: string }>;
}

/** The tenant's rows of `public`, each as the table's own columns. Refresh tokens are left out: sessions do not move. */
interface PublicRows {
  tenant: Record<string, unknown>;
  users: Record<string, unknown>[];
  apiKeys: Record<string, unknown>[];
  webhookRoutes: Record<string, unknown>[];
}

export interface ArchiveTarget {
  databaseUrl: string;
  dataDir: string;
}

async function postgresTool(tool: 'pg_dump' | 'pg_restore', args: string[]): Promise<void> {
  try {
    await run(tool, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { code?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new ArchiveError(`${tool} is not installed: install PostgreSQL's client tools (Debian: apt-get install -y postgresql-client), at least the server's major version`);
    throw new ArchiveError(`${tool} failed: ${(e.stderr ?? String(err)).trim()}`);
  }
}

/** Writes a backup of `tenantId` into `dir` (created; it must hold no backup yet). */
export async function backupTenant(target: ArchiveTarget, tenantId: string, dir: string): Promise<BackupManifest> {
  if (!isTenantId(tenantId)) throw new ArchiveError(`"${tenantId}" is not a tenant id (a lower-case UUID, as GET /api/v1/auth/me shows it)`);
  if (existsSync(dir) && (await readdir(dir)).length > 0) throw new ArchiveError(`${dir} is not empty: back up into a new or empty directory`);
  await mkdir(dir, { recursive: true });
  const schema = tenantSchemaName(tenantId);
  const client = new Client({ connectionString: target.databaseUrl, application_name: 'tessera-tenant-backup' });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const snapshot = (await client.query<{ id: string }>('select pg_export_snapshot() as id')).rows[0]?.id;
    const tenant = (await client.query('select * from public.tenants where id = $1', [tenantId])).rows[0] as Record<string, unknown> | undefined;
    if (!tenant || !snapshot) throw new ArchiveError(`there is no tenant ${tenantId} in this database`);
    const rows: PublicRows = {
      tenant,
      users: (await client.query('select * from public.users where tenant_id = $1 order by created_at', [tenantId])).rows,
      apiKeys: (await client.query('select * from public.api_keys where tenant_id = $1 order by created_at', [tenantId])).rows,
      webhookRoutes: (await client.query('select * from public.webhook_routes where tenant_id = $1', [tenantId])).rows,
    };
    const migrations = (await client.query<{ name: string }>(`select name from ${schema}.migrations order by run_at, name`)).rows.map((r) => r.name);
    const artifacts = (
      await client.query<{ storagePath: string; sha256: string }>(`select distinct storage_path as "storagePath", sha256 from ${schema}.exports where storage_path is not null and sha256 is not null order by 1`)
    ).rows;
    // The same snapshot as the rows above, while this transaction holds it open.
    await postgresTool('pg_dump', [`--dbname=${target.databaseUrl}`, `--snapshot=${snapshot}`, `--schema=${schema}`, '--format=custom', '--no-owner', '--no-privileges', `--file=${path.join(dir, SCHEMA_DUMP)}`]);
    await client.query('commit');
    for (const a of artifacts) {
      const from = path.join(target.dataDir, a.storagePath);
      if (!existsSync(from)) throw new ArchiveError(`the wheel ${a.storagePath} of one of the tenant's exports is missing from the artifact store under ${target.dataDir}`);
      await mkdir(path.dirname(path.join(dir, a.storagePath)), { recursive: true });
      await copyFile(from, path.join(dir, a.storagePath));
    }
    await writeFile(path.join(dir, PUBLIC_ROWS), JSON.stringify(rows, null, 2));
    const manifest: BackupManifest = { format: BACKUP_FORMAT, version: BACKUP_VERSION, tenantId, slug: String(tenant.slug), schema, createdAt: new Date().toISOString(), migrations, artifacts };
    // Last: a directory with a manifest holds a whole backup.
    await writeFile(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2));
    return manifest;
  } finally {
    await client.end();
  }
}

async function readManifest(dir: string): Promise<BackupManifest> {
  const file = path.join(dir, MANIFEST);
  if (!existsSync(file)) throw new ArchiveError(`${dir} holds no tenant backup (no ${MANIFEST}; a backup that did not finish has none)`);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as BackupManifest;
  } catch {
    throw new ArchiveError(`${file} is not JSON`);
  }
  if (manifest.format !== BACKUP_FORMAT) throw new ArchiveError(`${file} is not a Tessera tenant backup`);
  if (manifest.version !== BACKUP_VERSION) throw new ArchiveError(`${file} is a backup of format version ${manifest.version}; this Tessera reads version ${BACKUP_VERSION}`);
  if (!isTenantId(manifest.tenantId) || manifest.schema !== tenantSchemaName(manifest.tenantId)) throw new ArchiveError(`${file} names no valid tenant`);
  const known = new Set(tenantMigrations.map((m) => m.name));
  const newer = manifest.migrations.filter((name) => !known.has(name));
  if (newer.length > 0) throw new ArchiveError(`the backup comes from a newer Tessera (tenant migrations ${newer.join(', ')} are unknown here): restore it with that version or later`);
  return manifest;
}

/**
 * Restores the backup in `dir` into the database at `target.databaseUrl` (created when missing; its public schema
 * is migrated) and its wheels into `target.dataDir`. Refuses a database that already has the tenant, its slug or
 * its schema. The schema is brought to this version's migrations, owned by the tenant's role as if provisioned.
 */
export async function restoreTenant(target: ArchiveTarget, dir: string): Promise<BackupManifest> {
  const manifest = await readManifest(dir);
  const rows = JSON.parse(await readFile(path.join(dir, PUBLIC_ROWS), 'utf8')) as PublicRows;
  await ensureDatabase(target.databaseUrl);
  const dataSource = await createDataSource(target.databaseUrl, { applicationName: 'tessera-tenant-restore', poolSize: 2 }).initialize();
  try {
    await migrateSchema(dataSource, 'public', publicMigrations);
    const [taken] = (await dataSource.query(
      `select (select count(*) from public.tenants where id = $1)::int as id, (select count(*) from public.tenants where slug = $2)::int as slug, (select count(*) from pg_namespace where nspname = $3)::int as schema`,
      [manifest.tenantId, manifest.slug, manifest.schema],
    )) as Array<{ id: number; slug: number; schema: number }>;
    if (taken?.id) throw new ArchiveError(`tenant ${manifest.tenantId} already exists in the target database: restore into a fresh database, or delete the tenant there first`);
    if (taken?.slug) throw new ArchiveError(`another tenant of the target database already has the slug "${manifest.slug}"`);
    if (taken?.schema) throw new ArchiveError(`the target database already has a schema ${manifest.schema} (left by an earlier restore?): drop it first`);
    await postgresTool('pg_restore', [`--dbname=${target.databaseUrl}`, '--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', path.join(dir, SCHEMA_DUMP)]);
    try {
      await dataSource.transaction(async (m) => {
        await m.query(`insert into public.tenants select * from json_populate_record(null::public.tenants, $1::json)`, [JSON.stringify(rows.tenant)]);
        await m.query(`insert into public.users select * from json_populate_recordset(null::public.users, $1::json)`, [JSON.stringify(rows.users)]);
        await m.query(`insert into public.api_keys select * from json_populate_recordset(null::public.api_keys, $1::json)`, [JSON.stringify(rows.apiKeys)]);
        await m.query(`insert into public.webhook_routes select * from json_populate_recordset(null::public.webhook_routes, $1::json)`, [JSON.stringify(rows.webhookRoutes)]);
        // The tenant's role, ownership of the restored schema and this version's newer migrations, as provisioning does.
        await migrateTenantSchemaIn(m, manifest.tenantId, tenantMigrations);
      });
    } catch (err) {
      // Nothing half-restored stays behind: the public rows rolled back, the restored schema goes.
      await dataSource.query(`drop schema if exists ${manifest.schema} cascade`);
      throw err;
    }
    for (const a of manifest.artifacts) {
      const stored = await storeArtifact({ dataDir: target.dataDir }, { wheelPath: path.join(dir, a.storagePath) });
      if (stored.sha256 !== a.sha256) throw new ArchiveError(`the backup's copy of ${a.storagePath} does not match its checksum`);
    }
    return manifest;
  } finally {
    await dataSource.destroy();
  }
}
