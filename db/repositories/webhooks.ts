// The webhooks of a tenant's workflows. The secret is sealed by the vault (db/vault.ts, ENCRYPTION_KEY), the
// tenant and hook ids bound in as associated data; it is opened only to check a
// delivery's signature. `WebhookRouteRepository` is the public lookup of a hook's tenant (POST /hooks/:id
// names none).
import type { DataSource } from 'typeorm';
import { returnedRows } from '../returning';
import type { TenantScope } from '../tenant-scope';
import { resealBatch, Vault, type VaultKeys } from '../vault';

export interface WebhookRecord {
  id: string;
  workflowId: string;
  createdBy: string | null;
  createdAt: Date;
}

interface WebhookRow {
  id: string;
  workflow_id: string;
  created_by: string | null;
  created_at: Date;
}

const COLUMNS = 'id, workflow_id, created_by, created_at';

function record(r: WebhookRow): WebhookRecord {
  return { id: r.id, workflowId: r.workflow_id, createdBy: r.created_by, createdAt: r.created_at };
}

function associatedData(tenantId: string, webhookId: string): Buffer {
  return Buffer.from(`webhook:${tenantId}:${webhookId}`, 'utf8');
}

export class WebhookRepository {
  private readonly vault: Vault;

  constructor(
    private readonly scope: TenantScope,
    keys: VaultKeys,
  ) {
    this.vault = new Vault(keys);
  }

  async create(input: { id: string; workflowId: string; secret: string; createdBy: string | null }): Promise<WebhookRecord> {
    const sealed = this.vault.seal(input.secret, associatedData(this.scope.tenantId(), input.id));
    const rows: WebhookRow[] = await this.scope
      .manager()
      .query(`insert into webhooks (id, workflow_id, ciphertext, iv, tag, key_id, created_by) values ($1, $2, $3, $4, $5, $6, $7) returning ${COLUMNS}`, [
        input.id,
        input.workflowId,
        sealed.ciphertext,
        sealed.iv,
        sealed.tag,
        sealed.keyId,
        input.createdBy,
      ]);
    return record(rows[0] as WebhookRow);
  }

  async listOf(workflowId: string): Promise<WebhookRecord[]> {
    const rows: WebhookRow[] = await this.scope.manager().query(`select ${COLUMNS} from webhooks where workflow_id = $1 order by created_at, id`, [workflowId]);
    return rows.map(record);
  }

  async get(id: string): Promise<WebhookRecord | null> {
    const rows: WebhookRow[] = await this.scope.manager().query(`select ${COLUMNS} from webhooks where id = $1`, [id]);
    return rows[0] ? record(rows[0]) : null;
  }

  /** The hook and its plaintext secret; null when there is no such hook. */
  async reveal(id: string): Promise<(WebhookRecord & { secret: string }) | null> {
    const rows: (WebhookRow & { ciphertext: Buffer; iv: Buffer; tag: Buffer; key_id: string | null })[] = await this.scope
      .manager()
      .query(`select ${COLUMNS}, ciphertext, iv, tag, key_id from webhooks where id = $1`, [id]);
    const row = rows[0];
    if (!row) return null;
    const secret = this.vault.open({ ciphertext: row.ciphertext, iv: row.iv, tag: row.tag, keyId: row.key_id }, associatedData(this.scope.tenantId(), id), `webhook ${id}`);
    return { ...record(row), secret };
  }

  /** A batch of hook secrets sealed under another key re-encrypted with the current one; how many. */
  async resealUnderCurrentKey(): Promise<number> {
    return resealBatch(this.scope.manager(), 'webhooks', this.vault, (id) => associatedData(this.scope.tenantId(), id));
  }

  async remove(id: string): Promise<boolean> {
    return returnedRows<{ id: string }>(await this.scope.manager().query(`delete from webhooks where id = $1 returning id`, [id])).length > 0;
  }
}

/** public.webhook_routes: hook id → tenant id. A row of a deleted hook (or workflow) only ever finds nothing. */
export class WebhookRouteRepository {
  constructor(private readonly dataSource: DataSource) {}

  async add(id: string, tenantId: string): Promise<void> {
    await this.dataSource.query(`insert into public.webhook_routes (id, tenant_id) values ($1, $2)`, [id, tenantId]);
  }

  async tenantOf(id: string): Promise<string | null> {
    const rows: { tenant_id: string }[] = await this.dataSource.query(`select tenant_id from public.webhook_routes where id = $1`, [id]);
    return rows[0]?.tenant_id ?? null;
  }

  async remove(id: string): Promise<void> {
    await this.dataSource.query(`delete from public.webhook_routes where id = $1`, [id]);
  }
}
