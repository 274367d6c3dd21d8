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

/** Narrows the log: `action` is an action or its family (`credential` matches `credential.create`). */
export interface AuditFilter {
  action?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
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

  /** Newest first; `before` is the id of the last entry of the previous page; every filter given must hold. */
  async list(limit: number, before?: string, filter: AuditFilter = {}): Promise<AuditRecord[]> {
    const rows: { id: string; at: Date; actor_type: AuditEntry['actorType']; actor_id: string | null; action: string; target_type: string | null; target_id: string | null; ip: string | null; details: Record<string, unknown> }[] =
      await this.scope.manager().query(
        `select * from audit_log
          where ($1::bigint is null or id < $1::bigint)
            and ($3::text is null or action = $3 or action like $3 || '.%')
            and ($4::text is null or actor_id = $4)
            and ($5::text is null or target_type = $5)
            and ($6::text is null or target_id = $6)
            and ($7::timestamptz is null or at >= $7)
            and ($8::timestamptz is null or at < $8)
          order by id desc limit $2`,
        [before ?? null, limit, filter.action ?? null, filter.actorId ?? null, filter.targetType ?? null, filter.targetId ?? null, filter.since ?? null, filter.until ?? null],
      );
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
