// Schedules of a workflow: POST|GET /api/v1/workflows/:id/schedules, PATCH|DELETE /api/v1/schedules/:id and
// POST /api/v1/schedules/:id/trigger (DESIGN.md §8). Each fires an ordinary run of the workflow's current
// version, recorded with `trigger: {type: "schedule", scheduleId}`. Editors write, viewers read; writes are
// audited. Declared once (server/http/route.ts), for serving and for the OpenAPI document.
import { z } from 'zod';
import type { TenantScope } from '../../db';
import { principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import type { AuditTrail } from '../security/audit-trail';
import type { ScheduleService } from '../services/schedule-service';

/** A time zone the runtime knows (IANA names such as Europe/Paris, or UTC). */
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// Five to seven fields, or one of the @-shorthands Temporal knows; Temporal itself checks the rest (a 422).
const CRON_SHAPE = /^(@(yearly|annually|monthly|weekly|daily|midnight|hourly|every\s+\S+)|\S+(\s+\S+){4,6})$/;

const cron = z.string().trim().max(200).regex(CRON_SHAPE, 'cron must be a cron expression of 5 to 7 fields (e.g. "*/5 * * * *") or an @-shorthand');
const intervalSeconds = z.number().int().min(1, 'intervalSeconds must be at least 1').max(366 * 24 * 3600);
const timezone = z.string().trim().max(100).refine(isTimeZone, 'timezone must be an IANA time zone name, e.g. Europe/Paris or UTC');
const inputs = z.record(z.string(), z.unknown());

export const createScheduleBody = z
  .strictObject({ cron: cron.optional(), intervalSeconds: intervalSeconds.optional(), timezone: timezone.optional(), inputs: inputs.default({}), paused: z.boolean().default(false) })
  .refine((b) => (b.cron === undefined) !== (b.intervalSeconds === undefined), { message: 'give exactly one of cron and intervalSeconds', path: ['cron'] })
  .refine((b) => b.timezone === undefined || b.cron !== undefined, { message: 'timezone goes with cron', path: ['timezone'] });

export const updateScheduleBody = z
  .strictObject({ cron: cron.optional(), intervalSeconds: intervalSeconds.optional(), timezone: timezone.optional(), inputs: inputs.optional(), paused: z.boolean().optional() })
  .refine((b) => b.cron === undefined || b.intervalSeconds === undefined, { message: 'give at most one of cron and intervalSeconds', path: ['cron'] })
  .refine((b) => b.timezone === undefined || b.intervalSeconds === undefined, { message: 'timezone goes with cron', path: ['timezone'] });

const route = routeFor<{ scope: TenantScope; schedules: ScheduleService; audit: AuditTrail }>();

export const scheduleRoutes = [
  route({
    method: 'get',
    path: '/workflows/:id/schedules',
    summary: "List a workflow's schedules with their next run times",
    tag: 'schedules',
    role: 'viewer',
    status: 200,
    response: 'The schedules',
    takesId: true,
    handle: async ({ schedules }, { req, id }) => ({ schedules: await schedules.list(principalOf(req).tenantId, id) }),
  }),
  route({
    method: 'post',
    path: '/workflows/:id/schedules',
    summary: 'Schedule runs of a workflow: a cron expression (with a time zone) or an interval; overlapping runs are skipped',
    tag: 'schedules',
    role: 'editor',
    body: createScheduleBody,
    status: 201,
    response: 'The schedule {id, spec, paused, nextRunAt, nextRunTimes}',
    takesId: true,
    handle: ({ scope, schedules, audit }, { req, body, id }) => {
      const p = principalOf(req);
      return scope.run(p.tenantId, async () => {
        const s = await schedules.create(p.tenantId, id, { ...body, createdBy: p.kind === 'api_key' ? null : p.userId });
        await audit.record(p.tenantId, p, req, { action: 'schedule.create', targetType: 'schedule', targetId: s.id, details: { workflowId: s.workflowId, spec: s.spec, paused: s.paused } });
        return s;
      });
    },
  }),
  route({
    method: 'patch',
    path: '/schedules/:id',
    summary: "Change a schedule's timing or inputs, pause or resume it",
    tag: 'schedules',
    role: 'editor',
    body: updateScheduleBody,
    status: 200,
    response: 'The schedule',
    takesId: true,
    idNames: 'schedule',
    handle: ({ scope, schedules, audit }, { req, body, id }) => {
      const p = principalOf(req);
      return scope.run(p.tenantId, async () => {
        const s = await schedules.update(p.tenantId, id, body);
        await audit.record(p.tenantId, p, req, { action: 'schedule.update', targetType: 'schedule', targetId: s.id, details: { changed: Object.keys(body) } });
        return s;
      });
    },
  }),
  route({
    method: 'delete',
    path: '/schedules/:id',
    summary: 'Delete a schedule (from Temporal too)',
    tag: 'schedules',
    role: 'editor',
    status: 204,
    response: 'Deleted',
    takesId: true,
    idNames: 'schedule',
    handle: async ({ scope, schedules, audit }, { req, id }) => {
      const p = principalOf(req);
      await scope.run(p.tenantId, async () => {
        const s = await schedules.remove(p.tenantId, id);
        await audit.record(p.tenantId, p, req, { action: 'schedule.delete', targetType: 'schedule', targetId: s.id, details: { workflowId: s.workflowId } });
      });
    },
  }),
  route({
    method: 'post',
    path: '/schedules/:id/trigger',
    summary: 'Fire a schedule once now (paused or not)',
    tag: 'schedules',
    role: 'editor',
    status: 202,
    response: 'The schedule; its run is recorded when the firing starts',
    takesId: true,
    idNames: 'schedule',
    handle: async ({ schedules }, { req, id }) => schedules.trigger(principalOf(req).tenantId, id),
  }),
];
