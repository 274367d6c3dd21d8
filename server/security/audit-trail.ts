// Writes audit log entries for the API: who (from the principal), what, and from where (the client IP as
// Express resolves it under the `trust proxy` setting). Inside an open tenant scope the entry joins that
// transaction, so an audited change and its entry commit together.
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { AuditEntry, AuditLogRepository, TenantScope } from '../../db';
import { actorOf, type Principal } from '../auth/principal';

export interface AuditTrail {
  record(tenantId: string, actor: Principal | null, req: Request | null, entry: Omit<AuditEntry, 'actorType' | 'actorId' | 'ip'>): Promise<void>;
}

export function createAuditTrail(deps: { scope: TenantScope; auditLog: AuditLogRepository }): AuditTrail {
  return {
    async record(tenantId, actor, req, entry) {
      const who = actor ? actorOf(actor) : null;
      await deps.scope.run(tenantId, () =>
        deps.auditLog.append({ ...entry, actorType: who?.type ?? 'anonymous', actorId: who?.id ?? null, ip: req?.ip ?? null }),
      );
    },
  };
}

/**
 * Records `action` once a request handled by routes of another module has succeeded (2xx), so routes
 * that know nothing of the audit log (workflow and deployment deletes, approval decisions) are audited
 * too. Written after the response, outside its transaction: a failure to audit is logged, not answered.
 */
export function auditOnSuccess(audit: AuditTrail, logger: Logger, method: string, action: string, targetType: string): RequestHandler {
  return (req, res, next) => {
    if (req.method !== method) {
      next();
      return;
    }
    const targetId = typeof req.params.id === 'string' ? req.params.id : undefined;
    const nodeId = typeof req.params.nodeId === 'string' ? req.params.nodeId : undefined;
    res.on('finish', () => {
      const principal = req.user;
      if (res.statusCode >= 300 || !principal) return;
      audit
        .record(principal.tenantId, principal, req, { action, targetType, ...(targetId ? { targetId } : {}), ...(nodeId ? { details: { nodeId } } : {}) })
        .catch((err: unknown) => logger.error({ err, action, tenantId: principal.tenantId }, 'audit log write failed'));
    });
    next();
  };
}
