// `npm run migrate`: brings the public schema and every tenant schema up to date (safe to run from
// several processes at once: each schema migrates under an advisory lock).
import { loadConfig } from '../core/config';
import { withStackSecrets } from '../core/stack-secrets';
import { createDataSource, migrateAll } from '../db';
import { publicMigrations } from '../migrations/public';
import { tenantMigrations } from '../migrations/tenant';
import { ensureDatabase } from './ensure-database';

async function main(): Promise<void> {
  const config = loadConfig(withStackSecrets(process.env));
  await ensureDatabase(config.databaseUrl);
  const dataSource = await createDataSource(config.databaseUrl, { applicationName: 'tessera-migrate', poolSize: 2 }).initialize();
  try {
    const reports = await migrateAll(dataSource, { public: publicMigrations, tenant: tenantMigrations });
    const applied = reports.filter((r) => r.applied.length);
    for (const r of applied) console.log(`migrated ${r.schema}: ${r.applied.join(', ')}`);
    console.log(`${reports.length} schema(s) up to date (${applied.length} changed)`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`migrate failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
