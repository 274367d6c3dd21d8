// `npm run rotate-encryption-key`: re-encrypts every tenant's vault (credentials, webhook secrets) with the
// current ENCRYPTION_KEY, opening what older keys sealed with ENCRYPTION_KEY_PREVIOUS (db/vault-rotation.ts).
// Safe to run twice, at once, or again after a crash; afterwards ENCRYPTION_KEY_PREVIOUS can be dropped.
import { loadConfig } from '../core/config';
import { withStackSecrets } from '../core/stack-secrets';
import { createDataSource } from '../db';
import { rotateVaultKey } from '../db/vault-rotation';

async function main(): Promise<void> {
  const config = loadConfig(withStackSecrets(process.env));
  const dataSource = await createDataSource(config.databaseUrl, { applicationName: 'tessera-rotate-encryption-key', poolSize: 2 }).initialize();
  try {
    const report = await rotateVaultKey(dataSource, { current: config.encryptionKey, previous: config.encryptionKeyPrevious }, (line) => console.log(line));
    console.log(
      `re-encrypted ${report.credentials} credential(s) and ${report.webhooks} webhook secret(s) in ${report.tenants.length} tenant(s) with vault key ${report.keyId}; ${report.left} left under other keys`,
    );
    if (report.left > 0) {
      console.log('some rows were being written meanwhile; run the command again to finish them');
      process.exitCode = 2;
    } else if (config.encryptionKeyPrevious.length > 0) {
      console.log('nothing is sealed under ENCRYPTION_KEY_PREVIOUS any more; it can be removed once every process runs with this ENCRYPTION_KEY');
    }
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`rotate-encryption-key failed: ${(err as { code?: string }).code === '42703' ? `${message} (run \`npm run migrate\` first)` : message}`);
  process.exit(1);
});
