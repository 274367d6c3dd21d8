// A tenant's run queue in its executions table (core/run-admission.ts says the rules): admission decisions are
// taken under a per-tenant transaction-scoped advisory lock, so two processes admitting for one tenant at once
// take turns and together never give out more slots than the limit. Call every method inside the tenant's scope.
import type { ExecutionTrigger } from '../../core/api-views';
import { TERMINAL_EXECUTION_STATUSES } from '../../core/events';
import type { RunPlan } from '../../core/plan';
import { runsToAdmit } from '../../core/run-admission';
import { returnedRows } from '../returning';
import type { TenantScope } from '../tenant-scope';

/** The SQL of core/run-admission.ts isQueuedRun and holdsRunSlot (keep them alike). */
const TOP_LEVEL = 'parent_execution_id is null';
const QUEUED = `${TOP_LEVEL} and status = 'pending' and admitted_at is null and temporal_run_id is null`;
const HOLDS_SLOT = `${TOP_LEVEL} and status <> all($1::text[]) and not (status = 'pending' and admitted_at is null and temporal_run_id is null)`;

/** What starting an admitted run on Temporal needs. */
export interface AdmittedRun {
  id: string;
  workflowId: string;
  plan: RunPlan;
  inputs: Record<string, unknown>;
  /** A schedule's run is started by its firing, not by admission (core/run-admission.ts startedByItsFiring). */
  trigger: ExecutionTrigger;
}

const ADMITTED_COLUMNS = 'id, workflow_id as "workflowId", plan, inputs, trigger, created_at as "createdAt"';

export class RunQueueRepository {
  constructor(private readonly scope: TenantScope) {}

  /** Serialises admission for the tenant until the scope's transaction ends. */
  private async lock(tenantId: string): Promise<void> {
    await this.scope.manager().query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`tessera:run-admission:${tenantId}`]);
  }

  async occupancy(): Promise<{ active: number; queued: number }> {
    const [row] = (await this.scope.manager().query(
      `select (select count(*) from executions where ${HOLDS_SLOT})::int as active, (select count(*) from executions where ${QUEUED})::int as queued`,
      [TERMINAL_EXECUTION_STATUSES],
    )) as Array<{ active: number; queued: number }>;
    return row ?? { active: 0, queued: 0 };
  }

  /** Admits the oldest queued runs (creation order) into the free slots; returns them, oldest first. */
  async admitOldest(tenantId: string, limit: number): Promise<AdmittedRun[]> {
    await this.lock(tenantId);
    const n = runsToAdmit(limit, await this.occupancy());
    if (n === 0) return [];
    const rows = returnedRows<AdmittedRun & { createdAt: Date }>(
      await this.scope.manager().query(
        `update executions set admitted_at = now()
          where id in (select id from executions where ${QUEUED} order by created_at, id limit $1)
          returning ${ADMITTED_COLUMNS}`,
        [n],
      ),
    );
    // `returning` keeps no order: oldest first again, as they were chosen.
    rows.sort((a, b) => new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime() || a.id.localeCompare(b.id));
    return rows.map((r) => ({ id: r.id, workflowId: r.workflowId, plan: r.plan, inputs: r.inputs, trigger: r.trigger }));
  }

  /**
   * Admits this one run if a slot is free and no older run is queued (a new run never jumps the queue); true when
   * it holds a slot afterwards (also when it was admitted before). For a caller that starts only its own run (a
   * schedule's firing); a run that ended (cancelled while queued) is never admitted.
   */
  async admitIfFirst(tenantId: string, executionId: string, limit: number): Promise<boolean> {
    await this.lock(tenantId);
    const m = this.scope.manager();
    const [own] = (await m.query(`select admitted_at is not null or temporal_run_id is not null as admitted, status from executions where id = $1`, [executionId])) as Array<{ admitted: boolean; status: string }>;
    if (!own) return false;
    if (own.admitted) return true;
    if (own.status !== 'pending') return false;
    const { active } = await this.occupancy();
    if (active >= limit) return false;
    // Inside the subquery, created_at and id are the run's own (the innermost table wins).
    const [older] = (await m.query(
      `select 1 from executions where ${QUEUED} and (created_at, id) < (select created_at, id from executions own where own.id = $1) limit 1`,
      [executionId],
    )) as unknown[];
    if (older) return false;
    await m.query(`update executions set admitted_at = now() where id = $1`, [executionId]);
    return true;
  }

  /**
   * Gives a run its slot without asking (a schedule's firing recorded by a workflow older than the scheduled-run
   * queue, which starts the run as its own child at once), so no admission takes it for a queued run.
   */
  async markAdmitted(executionId: string): Promise<void> {
    await this.scope.manager().query(`update executions set admitted_at = now() where id = $1 and admitted_at is null`, [executionId]);
  }

  /** Whether the run holds a slot and has not started yet (admitted before, its start still to be made). */
  async isAdmittedPending(executionId: string): Promise<boolean> {
    const rows = (await this.scope.manager().query(`select 1 from executions where id = $1 and status = 'pending' and admitted_at is not null`, [executionId])) as unknown[];
    return rows.length > 0;
  }

  /**
   * Cancels a queued run where it stands (it never reached Temporal): under the lock, so it cannot be admitted
   * meanwhile. False when it is no longer queued (it was admitted just now: cancel it on Temporal instead).
   */
  async cancelQueued(tenantId: string, executionId: string, by: string, at: Date): Promise<boolean> {
    await this.lock(tenantId);
    const m = this.scope.manager();
    const rows = returnedRows(await m.query(`update executions set status = 'cancelled', cancelled_by = $2, finished_at = $3 where id = $1 and ${QUEUED} returning id`, [executionId, by, at]));
    return rows.length > 0;
  }

  /** Whether the tenant has queued runs or admitted runs that never started (what a sweep looks for). */
  async hasWaitingWork(): Promise<boolean> {
    const rows = (await this.scope.manager().query(
      `select 1 from executions where ${TOP_LEVEL} and status = 'pending' and temporal_run_id is null limit 1`,
    )) as unknown[];
    return rows.length > 0;
  }

  /**
   * Admitted runs that have not reached Temporal `olderThanMs` after their admission: their start was lost. A
   * schedule's run is not one: its firing starts it (core/run-admission.ts startedByItsFiring).
   */
  async lostStarts(olderThanMs: number, limit: number): Promise<AdmittedRun[]> {
    return (await this.scope.manager().query(
      `select ${ADMITTED_COLUMNS} from executions
        where ${TOP_LEVEL} and status = 'pending' and temporal_run_id is null and admitted_at is not null and trigger->>'type' <> 'schedule'
          and admitted_at < now() - make_interval(secs => $1::double precision / 1000)
        order by created_at, id limit $2`,
      [olderThanMs, limit],
    )) as AdmittedRun[];
  }
}
