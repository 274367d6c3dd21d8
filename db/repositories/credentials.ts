// The credentials vault of a tenant: LLM provider keys sealed by the Vault (db/vault.ts: AES-256-GCM under
// ENCRYPTION_KEY, the key's id recorded). The tenant and credential ids are bound in as associated data, so a
// ciphertext copied into another tenant's row (or another row) does not decrypt. Runs inside the caller's TenantScope.
import { randomUUID } from 'node:crypto';
import { returnedRows } from '../returning';
import type { TenantScope } from '../tenant-scope';
import { resealBatch, Vault, type VaultKeys } from '../vault';

export interface CredentialRecord {
  id: string;
  provider: string;
  name: string;
  /** The server the key is for (an OpenAI-compatible gateway); null means the provider's configured one. */
  baseUrl: string | null;
  createdBy: string | null;
  createdAt: Date;
  /** When the secret was last replaced; null when it is the one it was created with. */
  rotatedAt: Date | null;
}

/** Where a credential is named: an agent node of a workflow's current version. */
export interface CredentialUse {
  credentialId: string;
  workflowId: string;
  workflowName: string;
  nodeId: string;
}

/** What a credential's secret opens, as the worker needs it for one call. */
export interface RevealedCredential {
  secret: string;
  baseUrl: string | null;
}

interface CredentialRow {
  id: string;
  provider: string;
  name: string;
  base_url: string | null;
  created_by: string | null;
  created_at: Date;
  rotated_at: Date | null;
}

const COLUMNS = 'id, provider, name, base_url, created_by, created_at, rotated_at';

function record(row: CredentialRow): CredentialRecord {
  return {
    id: row.id,
    provider: row.provider,
    name: row.name,
    baseUrl: row.base_url,
    createdBy: row.created_by,
    createdAt: row.created_at,
    rotatedAt: row.rotated_at,
  };
}

function associatedData(tenantId: string, credentialId: string): Buffer {
  return Buffer.from(`${tenantId}:${credentialId}`, 'utf8');
}

export class CredentialRepository {
  private readonly vault: Vault;

  constructor(
    private readonly scope: TenantScope,
    keys: VaultKeys,
  ) {
    this.vault = new Vault(keys);
  }

  async create(input: { provider: string; name: string; secret: string; baseUrl?: string | null; createdBy: string | null }): Promise<CredentialRecord> {
    const m = this.scope.manager();
    const id = randomUUID();
    const sealed = this.seal(id, input.secret);
    const rows: CredentialRow[] = await m.query(
      `insert into credentials (id, provider, name, base_url, ciphertext, iv, tag, key_id, created_by) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       returning ${COLUMNS}`,
      [id, input.provider, input.name, input.baseUrl ?? null, sealed.ciphertext, sealed.iv, sealed.tag, sealed.keyId, input.createdBy],
    );
    return record(rows[0] as CredentialRow);
  }

  async list(): Promise<CredentialRecord[]> {
    const rows: CredentialRow[] = await this.scope.manager().query(`select ${COLUMNS} from credentials order by created_at`);
    return rows.map(record);
  }

  /**
   * Renames, re-points or rotates a credential in place, so the agent nodes that name it keep working; a new
   * secret is sealed afresh (new IV). Null when there is no such credential.
   */
  async update(id: string, change: { name?: string; baseUrl?: string | null; secret?: string }): Promise<CredentialRecord | null> {
    const sealed = change.secret !== undefined ? this.seal(id, change.secret) : null;
    const rows = returnedRows<CredentialRow>(
      await this.scope.manager().query(
        `update credentials set
           name = coalesce($2, name),
           base_url = case when $3::boolean then $4 else base_url end,
           ciphertext = coalesce($5, ciphertext), iv = coalesce($6, iv), tag = coalesce($7, tag), key_id = case when $5::bytea is null then key_id else $8 end,
           rotated_at = case when $5::bytea is null then rotated_at else now() end
         where id = $1 returning ${COLUMNS}`,
        [id, change.name ?? null, change.baseUrl !== undefined, change.baseUrl ?? null, sealed?.ciphertext ?? null, sealed?.iv ?? null, sealed?.tag ?? null, sealed?.keyId ?? null],
      ),
    );
    return rows[0] ? record(rows[0]) : null;
  }

  /** The agent nodes of current workflow versions that name a credential (all of them, or one). */
  async uses(credentialId?: string): Promise<CredentialUse[]> {
    const rows: { credential_id: string; workflow_id: string; workflow_name: string; node_id: string }[] = await this.scope.manager().query(
      `select n->'data'->>'credentialId' as credential_id, w.id as workflow_id, w.name as workflow_name, n->>'id' as node_id
         from workflows w
         join workflow_versions v on v.workflow_id = w.id and v.version = w.current_version
         cross join lateral jsonb_array_elements(case when jsonb_typeof(v.graph->'nodes') = 'array' then v.graph->'nodes' else '[]'::jsonb end) n
        where w.deleted_at is null and n->>'type' = 'agent' and n->'data'->>'credentialId' is not null
          and ($1::text is null or lower(n->'data'->>'credentialId') = $1)
        order by w.name, n->>'id'`,
      [credentialId ?? null],
    );
    return rows.map((r) => ({ credentialId: r.credential_id.toLowerCase(), workflowId: r.workflow_id, workflowName: r.workflow_name, nodeId: r.node_id }));
  }

  async remove(id: string): Promise<boolean> {
    const rows = returnedRows<{ id: string }>(await this.scope.manager().query(`delete from credentials where id = $1 returning id`, [id]));
    return rows.length > 0;
  }

  /**
   * The plaintext secret (and server) of a credential for `provider` (null: of any provider, as an http tool
   * sends it); null when there is none. Only the worker calls this.
   */
  async reveal(id: string, provider: string | null): Promise<RevealedCredential | null> {
    const rows: { ciphertext: Buffer; iv: Buffer; tag: Buffer; key_id: string | null; base_url: string | null }[] = await this.scope
      .manager()
      .query(`select ciphertext, iv, tag, key_id, base_url from credentials where id = $1 and ($2::text is null or provider = $2)`, [id, provider]);
    const row = rows[0];
    if (!row) return null;
    const secret = this.vault.open({ ciphertext: row.ciphertext, iv: row.iv, tag: row.tag, keyId: row.key_id }, associatedData(this.scope.tenantId(), id), `credential ${id}`);
    return { secret, baseUrl: row.base_url };
  }

  /**
   * Re-encrypts a batch of credentials sealed under another key (or before key ids) with the current one, and
   * says how many; the secret and `rotated_at` stay what they were (this is the vault's rotation, not the secret's).
   */
  async resealUnderCurrentKey(): Promise<number> {
    return resealBatch(this.scope.manager(), 'credentials', this.vault, (id) => associatedData(this.scope.tenantId(), id));
  }

  private seal(id: string, secret: string): { ciphertext: Buffer; iv: Buffer; tag: Buffer; keyId: string } {
    return this.vault.seal(secret, associatedData(this.scope.tenantId(), id));
  }
}
