// /api/v1/tenant: the caller's tenant as a whole — its audit log (admins) and deleting it (owners, who
// confirm with the tenant's slug). Deleting terminates the tenant's open runs in Temporal first (through
// RunClient, so only ids under this tenant's prefix), then drops its schema and role and its public rows.
import type { Logger } from 'pino';
import { z } from 'zod';
import { TERMINAL_EXECUTION_STATUSES } from '../../core/events';
import { ValidationFailed } from '../../core/errors';
import type { AccountRepository, AuditLogRepository, TenantScope } from '../../db';
import { principalOf } from '../auth/principal';
import type { InvalidationBus } from '../cache/invalidation-bus';
import { routeFor } from '../http/route';
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

export interface TenantRouteDeps {
  scope: TenantScope;
  accounts: AccountRepository;
  auditLog: AuditLogRepository;
  runs: RunClient;
  /** Tells every API process to forget the deleted tenant's members and runs. */
  bus: InvalidationBus;
  logger: Logger;
  /** What lives outside the tenant's schema and must go first (its Temporal schedules). */
  beforeDelete?: (tenantId: string) => Promise<void>;
}

const route = routeFor<TenantRouteDeps>();

export const tenantRoutes = [
  route({
    method: 'get',
    path: '/tenant/audit-log',
    summary: "The tenant's audit log, newest first, filtered by action (or family), actor, target and time; nextBefore pages on",
    tag: 'tenant',
    role: 'admin',
    query: auditLogQuery,
    status: 200,
    response: 'A page of audit entries and the id to page on from (null on the last page)',
    handle: async ({ scope, auditLog }, { req, query }) => {
      const { limit, before, ...filter } = query;
      // One more than asked tells whether another page follows without a count over the whole log.
      const rows = await scope.run(principalOf(req).tenantId, () => auditLog.list(limit + 1, before, filter));
      const entries = rows.slice(0, limit);
      return { entries, nextBefore: rows.length > limit ? (entries.at(-1)?.id ?? null) : null };
    },
  }),
  route({
    method: 'delete',
    path: '/tenant',
    summary: 'Delete the tenant: its runs are terminated, its data dropped',
    tag: 'tenant',
    role: 'owner',
    body: deleteTenantBody,
    bodyOptional: true,
    status: 204,
    response: 'Deleted',
    handle: async ({ scope, accounts, runs, bus, logger, beforeDelete }, { req, body }) => {
      const p = principalOf(req);
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
      await beforeDelete?.(p.tenantId);
      await accounts.deleteTenant(p.tenantId);
      await bus.publish({ kind: 'tenant', tenantId: p.tenantId });
      logger.info({ tenantId: p.tenantId, actor: p.userId, terminatedRuns: open.length }, 'tenant deleted');
    },
  }),
];
