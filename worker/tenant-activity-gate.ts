// Fair share inside the worker (issue 14 item 4): at most `perTenant` activities of one tenant execute at once in
// this worker process; the tenant's further activities wait here, in arrival order, while other tenants' go
// straight through. The tenant is read from the Temporal workflow id (`tenant/<id>/…`, db/temporal-payload-codec.ts), which
// every workflow Tessera starts carries. Local activities (a run's inline evaluation and progress writes) are
// short and bounded by their own timeouts; they pass ungated so that a flooding tenant's runs still record their
// progress. A waiting activity heartbeats (with the details of its last attempt, so a retry resumes as before)
// and gives up as soon as Temporal cancels it. See docs/decisions.md "Fair share inside the worker".
import { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import pLimit from 'p-limit';
import { tenantOfTemporalId } from '../db/temporal-payload-codec';

/** How often an activity waiting for its tenant's turn heartbeats (the worker sends at most one a second). */
const WAITING_HEARTBEAT_MS = 1000;

type Limit = ReturnType<typeof pLimit>;

export class TenantActivityGate {
  private readonly limits = new Map<string, Limit>();

  constructor(private readonly perTenant: number) {
    if (!Number.isInteger(perTenant) || perTenant < 1) throw new Error(`perTenant must be a positive integer, not ${perTenant}`);
  }

  /** Whether a task of the tenant started now would wait for its turn. */
  full(tenantId: string): boolean {
    const limit = this.limits.get(tenantId);
    return limit !== undefined && limit.activeCount + limit.pendingCount >= this.perTenant;
  }

  /** Activities of the tenant executing and waiting right now (0 for a tenant the gate holds nothing of). */
  load(tenantId: string): { running: number; waiting: number } {
    const limit = this.limits.get(tenantId);
    return { running: limit?.activeCount ?? 0, waiting: limit?.pendingCount ?? 0 };
  }

  /**
   * Runs `task` once fewer than `perTenant` of the tenant's tasks run. `cancelled` rejecting (Temporal cancelled
   * the activity) ends the wait with that rejection; the task then never runs.
   */
  async run<T>(tenantId: string, task: () => Promise<T>, cancelled: Promise<never>): Promise<T> {
    let limit = this.limits.get(tenantId);
    if (!limit) {
      limit = pLimit(this.perTenant);
      this.limits.set(tenantId, limit);
    }
    let started = false;
    let gaveUp = false;
    const turn = limit(async () => {
      if (gaveUp) return undefined as T;
      started = true;
      return task();
    }).finally(() => this.forgetIdle(tenantId));
    // A cancellation only ends the wait: once the task runs, it answers the cancellation itself.
    const waitOrCancel = cancelled.catch((error: unknown) => {
      if (started) return turn;
      gaveUp = true;
      throw error;
    });
    return Promise.race([turn, waitOrCancel]);
  }

  private forgetIdle(tenantId: string): void {
    const limit = this.limits.get(tenantId);
    if (limit && limit.activeCount === 0 && limit.pendingCount === 0) this.limits.delete(tenantId);
  }
}

/**
 * The activity interceptor of the `tessera` worker: every non-local activity of a tenant goes through the gate.
 * `beforeWait` runs for an activity that is about to wait: an agent turn carries its run's pending progress (the
 * run machine's ledger, written before the model is called), which must not wait behind the tenant's other
 * turns, or the run would read `pending` while its turns run.
 */
export function tenantActivityGateInterceptor(gate: TenantActivityGate, beforeWait?: (input: ActivityExecuteInput) => Promise<void>): (ctx: Context) => { inbound: ActivityInboundCallsInterceptor } {
  return (ctx) => ({
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
        const tenantId = ctx.info.isLocal ? null : tenantOfTemporalId(ctx.info.workflowExecution?.workflowId);
        if (!tenantId) return next(input);
        // Only an activity that will wait heartbeats here; the others start at once (full() counts the queued too).
        const willWait = gate.full(tenantId);
        if (beforeWait && willWait) await beforeWait(input);
        const details = ctx.info.heartbeatDetails as unknown;
        let waiting = true;
        const beat = willWait
          ? setInterval(() => {
              if (waiting) ctx.heartbeat(details);
            }, WAITING_HEARTBEAT_MS)
          : undefined;
        try {
          return await gate.run(
            tenantId,
            () => {
              waiting = false;
              clearInterval(beat);
              return next(input);
            },
            ctx.cancelled,
          );
        } finally {
          clearInterval(beat);
        }
      },
    },
  });
}
