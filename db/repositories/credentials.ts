// The credentials vault of a tenant: LLM provider keys encrypted with AES-256-GCM under a key derived from
// ENCRYPTION_KEY. The tenant and credential ids are bound in as associated data, so a ciphertext copied
// into another tenant's row (or another row) does not decrypt. Runs inside the caller's TenantScope.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { returnedRows } from '../returning';
import type { TenantScope } from '../tenant-scope';

export interface CredentialRecord {
  id: string;
  provider: string;
  name: string;
  createdBy: string | null;
  createdAt: Date;
}

interface CredentialRow {
  id: string;
  provider: string;
  name: string;
  created_by: string | null;
  created_at: Date;
}

function record(row: CredentialRow): CredentialRecord {
  return { id: row.id, provider: row.provider, name: row.name, createdBy: row.created_by, createdAt: row.created_at };
}

/** The 256-bit data key: HKDF of the configured secret, so any string of 16+ characters is a usable setting. */
export function deriveVaultKey(encryptionKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(encryptionKey, 'utf8'), Buffer.from('tessera'), Buffer.from('credentials-v1'), 32));
}

function associatedData(tenantId: string, credentialId: string): Buffer {
  return Buffer.from(`${tenantId}:${credentialId}`, 'utf8');
}

export class CredentialRepository {
  private readonly key: Buffer;

  constructor(
    private readonly scope: TenantScope,
    encryptionKey: string,
  ) {
    this.key = deriveVaultKey(encryptionKey);
  }

  async create(input: { provider: string; name: string; secret: string; createdBy: string | null }): Promise<CredentialRecord> {
    const m = this.scope.manager();
    const id = randomUUID();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(associatedData(this.scope.tenantId(), id));
    const ciphertext = Buffer.concat([cipher.update(input.secret, 'utf8'), cipher.final()]);
    const rows: CredentialRow[] = await m.query(
      `insert into credentials (id, provider, name, ciphertext, iv, tag, created_by) values ($1, $2, $3, $4, $5, $6, $7)
       returning id, provider, name, created_by, created_at`,
      [id, input.provider, input.name, ciphertext, iv, cipher.getAuthTag(), input.createdBy],
    );
    return record(rows[0] as CredentialRow);
  }

  async list(): Promise<CredentialRecord[]> {
    const rows: CredentialRow[] = await this.scope.manager().query(`select id, provider, name, created_by, created_at from credentials order by created_at`);
    return rows.map(record);
  }

  async remove(id: string): Promise<boolean> {
    const rows = returnedRows<{ id: string }>(await this.scope.manager().query(`delete from credentials where id = $1 returning id`, [id]));
    return rows.length > 0;
  }

  /** The plaintext secret of a credential for `provider`; null when there is none. Only the worker calls this. */
  async reveal(id: string, provider: string): Promise<string | null> {
    const rows: { ciphertext: Buffer; iv: Buffer; tag: Buffer }[] = await this.scope
      .manager()
      .query(`select ciphertext, iv, tag from credentials where id = $1 and provider = $2`, [id, provider]);
    const row = rows[0];
    if (!row) return null;
    const decipher = createDecipheriv('aes-256-gcm', this.key, row.iv);
    decipher.setAAD(associatedData(this.scope.tenantId(), id));
    decipher.setAuthTag(row.tag);
    return Buffer.concat([decipher.update(row.ciphertext), decipher.final()]).toString('utf8');
  }
}
