// A throwaway PostgreSQL database per test suite, migrated like a real one and dropped afterwards.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, migrateAll } from '../../db';
import { publicMigrations } from '../../migrations/public';
import { tenantMigrations } from '../../migrations/tenant';

export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin<T>(work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  dataSource: DataSource;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'tessera_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  const dataSource = await createDataSource(url.toString(), { applicationName: 'tessera-test', poolSize: 10 }).initialize();
  await migrateAll(dataSource, { public: publicMigrations, tenant: tenantMigrations });
  return {
    name,
    url: url.toString(),
    dataSource,
    async drop() {
      // Tenant roles belong to the cluster, not the database: note them before it goes, drop them after.
      const roles: { role: string }[] = dataSource.isInitialized
        ? await dataSource.query(`select schema_name as role from public.tenants t join pg_roles r on r.rolname = t.schema_name`)
        : [];
      if (dataSource.isInitialized) await dataSource.destroy();
      await admin(async (c) => {
        await c.query(`drop database if exists ${name} with (force)`);
        for (const { role } of roles) await c.query(`drop role if exists ${role}`);
      });
    },
  };
}
