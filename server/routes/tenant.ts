// /api/v1/tenant: the caller's tenant as a whole — its audit log (admins) and deleting it (owners, who
// confirm with the tenant's slug). Deleting stops everything the tenant owns in Temporal and Docker before its
// schema goes (server/services/tenant-deletion.ts); a deletion that stopped half-way is finished by repeating it.
import { z } from 'zod';
import { ValidationFailed } from '../../core/errors';
import type { AccountRepository, AuditLogRepository, TenantScope } from '../../db';
import { actorOf, principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import type { TenantDeletion } from '../services/tenant-deletion';

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
  tenantDeletion: Pick<TenantDeletion, 'remove'>;
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
    summary: 'Delete the tenant: its runs, exports and deployments are stopped, its schedules deleted, its data dropped',
    description:
      'Schedules are deleted in Temporal, deployments stopped and their containers removed, every other open workflow of the tenant (runs, child runs, map coordinators, exports) terminated, then its schema dropped. If something would not stop, the answer is a 503 TENANT_DELETION_INCOMPLETE and the tenant stays: repeat the DELETE.',
    tag: 'tenant',
    role: 'owner',
    body: deleteTenantBody,
    bodyOptional: true,
    status: 204,
    response: 'Deleted',
    handle: async ({ accounts, tenantDeletion }, { req, body }) => {
      const p = principalOf(req);
      const tenant = await accounts.findTenant(p.tenantId);
      if (!tenant || tenant.slug !== body.confirmSlug) {
        throw new ValidationFailed('confirmSlug must be the slug of your tenant', { field: 'confirmSlug' });
      }
      await tenantDeletion.remove(p.tenantId, actorOf(p).label);
    },
  }),
];
