// API keys for programs, in the public schema: a key is shown once at creation and stored only as a sha256
// hash (it is 32 random bytes, so a slow hash adds nothing); its prefix stays visible to tell keys apart.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Role } from '../entities/public';
import { returnedRows } from '../returning';

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  role: Role;
  prefix: string;
  createdBy: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  role: Role;
  prefix: string;
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, tenant_id, name, role, prefix, created_by, created_at, last_used_at, revoked_at';

function record(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    createdBy: row.created_by,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export class ApiKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Creates a key and returns it in plaintext, the only time it exists outside the caller's hands. */
  async create(input: { tenantId: string; name: string; role: Role; createdBy: string | null }): Promise<{ key: string; record: ApiKeyRecord }> {
    const prefix = `tsk_${randomBytes(4).toString('hex')}`;
    const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
    const rows: ApiKeyRow[] = await this.dataSource.query(
      `insert into public.api_keys (id, tenant_id, name, role, prefix, key_hash, created_by) values ($1, $2, $3, $4, $5, $6, $7) returning ${COLUMNS}`,
      [randomUUID(), input.tenantId, input.name, input.role, prefix, hashApiKey(key), input.createdBy],
    );
    return { key, record: record(rows[0] as ApiKeyRow) };
  }

  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    const rows: ApiKeyRow[] = await this.dataSource.query(`select ${COLUMNS} from public.api_keys where tenant_id = $1 order by created_at`, [tenantId]);
    return rows.map(record);
  }

  /** Revokes a key of `tenantId`; null when the tenant has no such key. Revoking twice keeps the first time. */
  async revoke(tenantId: string, id: string): Promise<ApiKeyRecord | null> {
    const rows = returnedRows<ApiKeyRow>(
      await this.dataSource.query(
        `update public.api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1 and tenant_id = $2 returning ${COLUMNS}`,
        [id, tenantId],
      ),
    );
    return rows[0] ? record(rows[0]) : null;
  }

  /** The live key a plaintext key names, with its last-used time brought up to now; null when unknown or revoked. */
  async use(key: string): Promise<ApiKeyRecord | null> {
    const rows = returnedRows<ApiKeyRow>(
      await this.dataSource.query(
        `update public.api_keys set last_used_at = now() where key_hash = $1 and revoked_at is null returning ${COLUMNS}`,
        [hashApiKey(key)],
      ),
    );
    return rows[0] ? record(rows[0]) : null;
  }
}
