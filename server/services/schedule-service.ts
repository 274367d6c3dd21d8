// Schedules of a workflow (DESIGN.md §8 "Triggers and re-runs"): each is a Temporal Schedule (which keeps
// the timing and survives API and worker restarts) plus a tenant row (what lists it and scopes it). The row
// is written in the same tenant transaction as the Temporal call, so a schedule Temporal refused leaves none.
import { randomUUID } from 'node:crypto';
import { compileGraph, GraphInvalidError } from '../../core/compile';
import { AppError, NotFound } from '../../core/errors';
import { checkRunInputs } from '../../core/inputs';
import type { TenantScope, WorkflowRepository } from '../../db';
import type { ScheduleSpec, ScheduleView } from '../../core/api-views';
import { ScheduleRepository, type ScheduleRecord } from '../../db/repositories/schedules';
import type { ScheduleClient } from '../temporal/schedule-client';
import { requireUuid } from './ids';

export type { ScheduleView };

/** A schedule's timing as a request gives it: exactly one of cron and intervalSeconds (checked by the route). */
export interface ScheduleTiming {
  cron?: string | undefined;
  intervalSeconds?: number | undefined;
  timezone?: string | undefined;
}

export interface ScheduleServiceDeps {
  scope: TenantScope;
  workflows: WorkflowRepository;
  client: ScheduleClient;
}

function specOf(t: ScheduleTiming, previous?: ScheduleSpec): ScheduleSpec | undefined {
  if (t.cron !== undefined) return { cron: t.cron, timezone: t.timezone ?? 'UTC' };
  if (t.intervalSeconds !== undefined) return { intervalSeconds: t.intervalSeconds };
  if (t.timezone !== undefined && previous && 'cron' in previous) return { cron: previous.cron, timezone: t.timezone };
  return undefined;
}

/**
 * Temporal's refusal of a spec (a cron field out of range) is the caller's mistake: a 422. The SDK turns the
 * server's INVALID_ARGUMENT into a TypeError carrying Temporal's message ("Minute is not in range [0-59]").
 */
function refusedSpec(err: unknown): unknown {
  if (err instanceof TypeError) return new AppError('SCHEDULE_INVALID', 422, `Temporal refused the schedule: ${err.message}`, { field: 'cron' });
  return err;
}

export function createScheduleService(deps: ScheduleServiceDeps) {
  const { scope, workflows, client } = deps;
  const schedules = new ScheduleRepository(scope);

  async function view(tenantId: string, s: ScheduleRecord): Promise<ScheduleView> {
    const state = await client.describe(tenantId, s.id);
    return {
      id: s.id,
      workflowId: s.workflowId,
      spec: s.spec,
      inputs: s.inputs,
      paused: state?.paused ?? s.paused,
      nextRunAt: state?.nextRunAt ?? null,
      nextRunTimes: state?.nextRunTimes ?? [],
      createdAt: s.createdAt.toISOString(),
    };
  }

  /** The inputs checked against the trigger of the workflow's current version (a graph that does not compile runs nothing). */
  async function checkedInputs(workflowId: string, inputs: Record<string, unknown>): Promise<Record<string, unknown>> {
    const w = await workflows.find(workflowId);
    if (!w) throw new NotFound(`workflow ${workflowId} not found`);
    const saved = await workflows.version(w.id, w.currentVersion);
    if (!saved) throw new NotFound(`workflow ${workflowId} has no version ${w.currentVersion}`);
    let plan;
    try {
      plan = compileGraph(saved.graph, { workflowId: w.id, workflowVersion: w.currentVersion });
    } catch (err) {
      if (err instanceof GraphInvalidError) throw new AppError('GRAPH_INVALID', 422, `version ${w.currentVersion} of this workflow has validation problems`, { errors: err.problems });
      throw err;
    }
    const checked = checkRunInputs(plan.inputs, inputs);
    if (!checked.ok) throw new AppError('INPUTS_INVALID', 422, 'the schedule inputs do not match the trigger', { issues: checked.problems });
    return checked.inputs;
  }

  async function load(id: string): Promise<ScheduleRecord> {
    const s = await schedules.get(requireUuid(id, 'schedule'));
    if (!s) throw new NotFound(`schedule ${id} not found`);
    return s;
  }

  return {
    async list(tenantId: string, workflowId: string): Promise<ScheduleView[]> {
      const rows = await scope.run(tenantId, async () => {
        const w = await workflows.find(requireUuid(workflowId, 'workflow'));
        if (!w) throw new NotFound(`workflow ${workflowId} not found`);
        return schedules.listOf(w.id);
      });
      return Promise.all(rows.map((s) => view(tenantId, s)));
    },

    /** Runs inside the caller's open tenant scope (the route audits in the same transaction). */
    async create(tenantId: string, workflowId: string, input: ScheduleTiming & { inputs: Record<string, unknown>; paused: boolean; createdBy: string | null }): Promise<ScheduleView> {
      const wid = requireUuid(workflowId, 'workflow');
      const inputs = await checkedInputs(wid, input.inputs);
      const spec = specOf(input)!;
      const s = await schedules.create({ id: randomUUID(), workflowId: wid, spec, inputs, paused: input.paused, createdBy: input.createdBy });
      await client.create({ tenantId, scheduleId: s.id, workflowId: wid, spec, paused: input.paused }).catch((err: unknown) => {
        throw refusedSpec(err);
      });
      return view(tenantId, s);
    },

    /** Runs inside the caller's open tenant scope. */
    async update(tenantId: string, id: string, change: ScheduleTiming & { inputs?: Record<string, unknown> | undefined; paused?: boolean | undefined }): Promise<ScheduleView> {
      const s = await load(id);
      const spec = specOf(change, s.spec);
      const inputs = change.inputs !== undefined ? await checkedInputs(s.workflowId, change.inputs) : undefined;
      const updated = await schedules.update(s.id, { ...(spec ? { spec } : {}), ...(inputs ? { inputs } : {}), ...(change.paused !== undefined ? { paused: change.paused } : {}) });
      if (!updated) throw new NotFound(`schedule ${id} not found`);
      if (spec) await client.setSpec(tenantId, s.id, spec).catch((err: unknown) => Promise.reject(refusedSpec(err)));
      if (change.paused !== undefined) await client.setPaused(tenantId, s.id, change.paused);
      return view(tenantId, updated);
    },

    /** Runs inside the caller's open tenant scope. */
    async remove(tenantId: string, id: string): Promise<ScheduleRecord> {
      const s = await load(id);
      await schedules.remove(s.id);
      await client.delete(tenantId, s.id);
      return s;
    },

    async trigger(tenantId: string, id: string): Promise<ScheduleView> {
      const s = await scope.run(tenantId, () => load(id));
      await client.trigger(tenantId, s.id);
      return view(tenantId, s);
    },

    /** The Temporal schedules of a tenant being deleted (its schema goes with their rows). */
    async removeAllOfTenant(tenantId: string): Promise<void> {
      const rows = await scope.run(tenantId, () => schedules.listAll());
      await Promise.all(rows.map((s) => client.delete(tenantId, s.id)));
    },

    /** The schedules of a workflow being deleted, in Temporal and then their rows (its own row stays, marked deleted). */
    async removeAllOf(tenantId: string, workflowId: string): Promise<void> {
      const rows = await scope.run(tenantId, () => schedules.listOf(workflowId));
      await Promise.all(rows.map((s) => client.delete(tenantId, s.id)));
      await scope.run(tenantId, async () => {
        for (const s of rows) await schedules.remove(s.id);
      });
    },
  };
}

export type ScheduleService = ReturnType<typeof createScheduleService>;
