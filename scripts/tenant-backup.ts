// `npm run tenant:backup -- <tenantId> <dir>`: writes one tenant's backup (its schema, its public rows, its wheels)
// into a new directory (scripts/tenant-archive.ts, docs/operations.md "Backup and restore of a tenant").
import { loadConfig } from '../core/config';
import { withStackSecrets } from '../core/stack-secrets';
import { ArchiveError, backupTenant } from './tenant-archive';

const USAGE = 'usage: npm run tenant:backup -- <tenantId> <dir>   (DATABASE_URL and DATA_DIR say where the tenant lives)';

async function main(): Promise<void> {
  const [tenantId, dir, ...extra] = process.argv.slice(2);
  if (!tenantId || !dir || extra.length > 0) throw new ArchiveError(USAGE);
  const config = loadConfig(withStackSecrets(process.env));
  const manifest = await backupTenant({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, tenantId, dir);
  console.log(`backed up tenant ${manifest.tenantId} (${manifest.slug}): schema ${manifest.schema}, ${manifest.artifacts.length} wheel(s), into ${dir}`);
}

main().catch((err: unknown) => {
  console.error(`tenant:backup failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof ArchiveError ? 2 : 1);
});
