// `npm run tenant:restore -- <dir>`: restores a tenant's backup into the database at DATABASE_URL (created when
// missing) and its wheels into DATA_DIR (scripts/tenant-archive.ts, docs/operations.md "Backup and restore of a tenant").
import { loadConfig } from '../core/config';
import { withStackSecrets } from '../core/stack-secrets';
import { ArchiveError, restoreTenant } from './tenant-archive';

const USAGE = 'usage: npm run tenant:restore -- <dir>   (DATABASE_URL and DATA_DIR say where the tenant goes)';

async function main(): Promise<void> {
  const [dir, ...extra] = process.argv.slice(2);
  if (!dir || extra.length > 0) throw new ArchiveError(USAGE);
  const config = loadConfig(withStackSecrets(process.env));
  const manifest = await restoreTenant({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, dir);
  console.log(`restored tenant ${manifest.tenantId} (${manifest.slug}) from ${dir}: schema ${manifest.schema}, ${manifest.artifacts.length} wheel(s)`);
}

main().catch((err: unknown) => {
  console.error(`tenant:restore failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof ArchiveError ? 2 : 1);
});
