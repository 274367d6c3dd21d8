// /api/v1/tenant: the caller's tenant as a whole — its audit log (admins) and deleting it (owners, who
// confirm with the tenant's slug). Deleting terminates the tenant's open runs in Temporal first (through
// RunClient, so only ids under this tenant's prefix), then drops its schema and role and its public rows.
import { Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { TERMINAL_EXECUTION_STATUSES } from '../../core/events';
import { ValidationFailed } from '../../core/errors';
import type { AccountRepository, AuditLogRepository, TenantScope } from '../../db';
import { principalOf } from '../auth/principal';
import { parseWith } from '../http/validate';
import { requireRole } from '../rbac';
import type { RunClient } from '../temporal/run-client';

export const deleteTenantBody = z.object({ confirmSlug: z.string().min(1).max(100) });

export const auditLogQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.string().regex(/^\d{1,18}$/, 'before is the id of an entry').optional(),
  /** An action (`credential.create`) or its family (`credential`). */
  action: z.string().trim().regex(/^[a-z_]+(\.[a-z_]+)*$/, 'action is like credential or credential.create').max(100).optional(),
  actorId: z.string().trim().min(1).max(100).optional(),
  targetType: z.string().trim().min(1).max(100).optional(),
  targetId: z.string().trim().min(1).max(100).optional(),
  since: z.coerce.date({ error: 'since is a date' }).optional(),
  until: z.coerce.date({ error: 'until is a date' }).optional(),
});

export interface TenantRouterDeps {
  scope: TenantScope;
  accounts: AccountRepository;
  auditLog: AuditLogRepository;
  runs: RunClient;
  logger: Logger;
}

export function createTenantRouter(deps: TenantRouterDeps): Router {
  const { scope, accounts, auditLog, runs, logger } = deps;
  const router = Router();

  router.get('/audit-log', requireRole('admin'), async (req, res) => {
    const { limit, before, ...filter } = parseWith(auditLogQuery, req.query, 'query');
    // One more than asked tells whether another page follows without a count over the whole log.
    const rows = await scope.run(principalOf(req).tenantId, () => auditLog.list(limit + 1, before, filter));
    const entries = rows.slice(0, limit);
    res.json({ entries, nextBefore: rows.length > limit ? (entries.at(-1)?.id ?? null) : null });
  });

  router.delete('/', requireRole('owner'), async (req, res) => {
    const p = principalOf(req);
    const body = parseWith(deleteTenantBody, req.body ?? {}, 'body');
    const tenant = await accounts.findTenant(p.tenantId);
    if (!tenant || tenant.slug !== body.confirmSlug) {
      throw new ValidationFailed('confirmSlug must be the slug of your tenant', { field: 'confirmSlug' });
    }
    const open: { id: string }[] = await scope.run(p.tenantId, (m) =>
      m.query(`select id from executions where status <> all($1::text[])`, [TERMINAL_EXECUTION_STATUSES]),
    );
    for (const e of open) {
      // A run that already closed in Temporal (or never started) is fine: nothing is left to stop.
      await runs.terminate(p.tenantId, e.id, 'tenant deleted').catch((err: unknown) => {
        logger.info({ err, tenantId: p.tenantId, executionId: e.id }, 'terminating a run of a deleted tenant failed');
      });
    }
    await accounts.deleteTenant(p.tenantId);
    logger.info({ tenantId: p.tenantId, actor: p.userId, terminatedRuns: open.length }, 'tenant deleted');
    res.status(204).end();
  });

  return router;
}
