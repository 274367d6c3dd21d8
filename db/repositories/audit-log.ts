// The audit log of a tenant: who (a user, an API key, or nobody yet known) did what to what, from where.
// Rows are only ever inserted; runs inside the caller's TenantScope.
import type { TenantScope } from '../tenant-scope';

export interface AuditEntry {
  actorType: 'user' | 'api_key' | 'anonymous';
  actorId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  ip?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditEntry, 'targetType' | 'targetId'>> {
  id: string;
  at: Date;
  targetType: string | null;
  targetId: string | null;
}

export class AuditLogRepository {
  constructor(private readonly scope: TenantScope) {}

  async append(entry: AuditEntry): Promise<void> {
    await this.scope
      .manager()
      .query(`insert into audit_log (actor_type, actor_id, action, target_type, target_id, ip, details) values ($1, $2, $3, $4, $5, $6, $7)`, [
        entry.actorType,
        entry.actorId,
        entry.action,
        entry.targetType ?? null,
        entry.targetId ?? null,
        entry.ip ?? null,
        JSON.stringify(entry.details ?? {}),
      ]);
  }

  /** Newest first; `before` is the id of the last entry of the previous page. */
  async list(limit: number, before?: string): Promise<AuditRecord[]> {
    const rows: { id: string; at: Date; actor_type: AuditEntry['actorType']; actor_id: string | null; action: string; target_type: string | null; target_id: string | null; ip: string | null; details: Record<string, unknown> }[] =
      await this.scope
        .manager()
        .query(`select * from audit_log where ($1::bigint is null or id < $1::bigint) order by id desc limit $2`, [before ?? null, limit]);
    return rows.map((r) => ({
      id: String(r.id),
      at: r.at,
      actorType: r.actor_type,
      actorId: r.actor_id,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      ip: r.ip,
      details: r.details,
    }));
  }
}
