// The vault's sealing, shared by everything ENCRYPTION_KEY protects (credentials, webhook secrets): AES-256-GCM
// under a key derived from the setting, with the caller's associated data bound in. Every ciphertext records the
// id of the key that made it, so after a rotation ENCRYPTION_KEY_PREVIOUS still opens what the old key sealed,
// and a key that is not configured is named in a readable error instead of yielding garbage.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';

/** The vault's keys: the one that seals (ENCRYPTION_KEY) and older ones that still open (ENCRYPTION_KEY_PREVIOUS). */
export interface VaultKeyring {
  current: string;
  previous: readonly string[];
}

/** One key (tests, tools) or a keyring (the composition roots, from the config). */
export type VaultKeys = string | VaultKeyring;

/** What a repository stores: `keyId` is null for rows sealed before key ids were recorded. */
export interface SealedSecret {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  keyId: string | null;
}

/** A secret the configured keys cannot open: its key is not configured, or the row was altered. */
export class VaultKeyError extends Error {
  override name = 'VaultKeyError';
}

/** The 256-bit data key: HKDF of the configured secret, so any string of 16+ characters is a usable setting. */
export function deriveVaultKey(encryptionKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(encryptionKey, 'utf8'), Buffer.from('tessera'), Buffer.from('credentials-v1'), 32));
}

/** A key's public name (16 hex digits): another HKDF output of the setting, so it tells nothing about the data key. */
export function vaultKeyId(encryptionKey: string): string {
  return Buffer.from(hkdfSync('sha256', Buffer.from(encryptionKey, 'utf8'), Buffer.from('tessera'), Buffer.from('vault-key-id-v1'), 8)).toString('hex');
}

export class Vault {
  /** The id every new ciphertext records. */
  readonly currentKeyId: string;
  private readonly keys: Map<string, Buffer>;

  constructor(keys: VaultKeys) {
    const ring = typeof keys === 'string' ? { current: keys, previous: [] } : keys;
    this.currentKeyId = vaultKeyId(ring.current);
    // Current first: a row without a key id is tried under the keys in this order.
    this.keys = new Map([ring.current, ...ring.previous].map((k) => [vaultKeyId(k), deriveVaultKey(k)]));
  }

  seal(plaintext: string, associatedData: Buffer): SealedSecret & { keyId: string } {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(associatedData);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { ciphertext, iv, tag: cipher.getAuthTag(), keyId: this.currentKeyId };
  }

  /** The plaintext; `what` names the secret in the error ("credential 1f…") when no configured key opens it. */
  open(sealed: SealedSecret, associatedData: Buffer, what: string): string {
    if (sealed.keyId !== null) {
      const key = this.keys.get(sealed.keyId);
      if (!key) {
        throw new VaultKeyError(
          `${what} was encrypted with vault key ${sealed.keyId}, which is neither ENCRYPTION_KEY (key ${this.currentKeyId}) nor in ENCRYPTION_KEY_PREVIOUS`,
        );
      }
      const plaintext = decrypt(key, sealed, associatedData);
      if (plaintext === null) throw new VaultKeyError(`${what} does not decrypt under its vault key ${sealed.keyId}: the stored row was altered or copied from elsewhere`);
      return plaintext;
    }
    for (const key of this.keys.values()) {
      const plaintext = decrypt(key, sealed, associatedData);
      if (plaintext !== null) return plaintext;
    }
    throw new VaultKeyError(
      `${what} predates vault key ids and decrypts under none of ENCRYPTION_KEY and ENCRYPTION_KEY_PREVIOUS; add the key it was made with to ENCRYPTION_KEY_PREVIOUS`,
    );
  }
}

/** Null when GCM's tag does not match: a wrong key or altered bytes, never a wrong plaintext. */
function decrypt(key: Buffer, sealed: SealedSecret, associatedData: Buffer): string | null {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
  decipher.setAAD(associatedData);
  decipher.setAuthTag(sealed.tag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

/** The tenant tables whose rows the vault seals, each with columns id, ciphertext, iv, tag, key_id. */
export type SealedTable = 'credentials' | 'webhooks';

/** How many rows one transaction of a rotation re-encrypts. */
export const RESEAL_BATCH = 100;

/**
 * Re-encrypts up to RESEAL_BATCH rows of `table` sealed under another key (or before key ids) with the current
 * key, in the caller's transaction, and says how many. Rows another transaction is resealing are skipped
 * (`skip locked`), so concurrent rotations never wait on each other nor reseal a row twice.
 */
export async function resealBatch(manager: EntityManager, table: SealedTable, vault: Vault, associatedDataOf: (id: string) => Buffer): Promise<number> {
  const rows: { id: string; ciphertext: Buffer; iv: Buffer; tag: Buffer; key_id: string | null }[] = await manager.query(
    `select id, ciphertext, iv, tag, key_id from ${table} where key_id is distinct from $1 order by id limit $2 for update skip locked`,
    [vault.currentKeyId, RESEAL_BATCH],
  );
  const what = table === 'credentials' ? 'credential' : 'webhook';
  for (const row of rows) {
    const aad = associatedDataOf(row.id);
    const plaintext = vault.open({ ciphertext: row.ciphertext, iv: row.iv, tag: row.tag, keyId: row.key_id }, aad, `${what} ${row.id}`);
    const sealed = vault.seal(plaintext, aad);
    await manager.query(`update ${table} set ciphertext = $2, iv = $3, tag = $4, key_id = $5 where id = $1`, [row.id, sealed.ciphertext, sealed.iv, sealed.tag, sealed.keyId]);
  }
  return rows.length;
}
