// Fair share between tenants, as the API drives it (core/run-admission.ts has the rules, db/repositories/run-queue.ts
// the locked SQL): a start asks for a slot first; a run that ends frees one, and the tenant's oldest queued runs
// are admitted and started on Temporal; a sweep every few seconds repairs what a crash or a lost message left
// (queued runs with free slots, admitted runs that never started). Every start is idempotent on the execution's
// workflow id, so two processes starting one admitted run start it once.
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { executionChannel, type ExecutionEvent } from '../../core/events';
import { LOST_START_AFTER_MS, RUN_ADMISSION_SWEEP_MS, RUN_ENDED_CHANNEL, startedByItsFiring } from '../../core/run-admission';
import { ExecutionRepository, ProgressRepository, type TenantScope } from '../../db';
import { RunQueueRepository, type AdmittedRun } from '../../db/repositories/run-queue';
import type { RunClient } from '../temporal/run-client';

/** Tenants a sweep visits per tick, and lost starts it restarts per tenant: bounded work whatever the size. */
const SWEEP_TENANTS_PER_TICK = 50;
const LOST_STARTS_PER_TENANT = 20;

export interface RunAdmissionDeps {
  scope: TenantScope;
  runs: Pick<RunClient, 'start'>;
  /** RUNS_MAX_CONCURRENT_PER_TENANT. */
  maxConcurrentPerTenant: number;
  /** A page of tenant ids after `after` (id order), for the sweep. */
  tenantIds(after: string | null, limit: number): Promise<string[]>;
  /** A connection in subscriber mode, for the workers' "a run ended" messages (other channels are left alone). */
  subscriber: Redis;
  /** Publishes a queued run's cancel to the run's subscribers. */
  redis: Redis;
  logger: Logger;
  sweepMs?: number;
  lostStartAfterMs?: number;
}

export interface RunAdmission {
  /**
   * Asks for a slot for a run about to start: the tenant's oldest queued runs take the free slots. True when
   * this run holds a slot (start it); false when it stays queued. Other runs admitted by the same decision are
   * started here in the background.
   */
  admit(tenantId: string, executionId: string): Promise<boolean>;
  /** A run of the tenant ended: admits and starts its oldest queued runs into the free slots. */
  release(tenantId: string): Promise<void>;
  /** Cancels a run that still waits for a slot (no Temporal call: it never started); false when it is not queued. */
  cancelQueued(tenantId: string, executionId: string, by: string, at: Date): Promise<boolean>;
  /** Starts listening for ended runs and sweeping; `stop` ends both and waits for the work under way. */
  start(): void;
  stop(): Promise<void>;
}

export function createRunAdmission(deps: RunAdmissionDeps): RunAdmission {
  const { scope, logger } = deps;
  const queue = new RunQueueRepository(scope);
  const executions = new ExecutionRepository(scope);
  const progress = new ProgressRepository(scope);
  const limit = deps.maxConcurrentPerTenant;
  const lostStartAfterMs = deps.lostStartAfterMs ?? LOST_START_AFTER_MS;
  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let sweepCursor: string | null = null;
  const underway = new Set<Promise<unknown>>();

  /** Work that outlives its caller (a release, a background start) is tracked, so `stop` can wait for it. */
  function track(work: Promise<unknown>): void {
    const p = work.catch((err: unknown) => logger.warn({ err }, 'run admission: work failed; the sweep tries again')).finally(() => underway.delete(p));
    underway.add(p);
  }

  /**
   * Starts admitted runs; one that fails stays admitted and the sweep starts it again (LOST_START_AFTER_MS). A
   * schedule's run is left to its firing, which waits for the slot and starts the run as its child.
   */
  async function startAll(tenantId: string, admitted: AdmittedRun[]): Promise<void> {
    for (const run of admitted) {
      if (startedByItsFiring(run.trigger)) continue;
      try {
        const { runId } = await deps.runs.start({ tenantId, executionId: run.id, workflowId: run.workflowId, plan: run.plan, inputs: run.inputs });
        await scope.run(tenantId, () => executions.setTemporalRunId(run.id, runId));
      } catch (err) {
        logger.warn({ err, tenantId, executionId: run.id }, 'run admission: an admitted run did not start; the sweep starts it again');
      }
    }
  }

  async function release(tenantId: string): Promise<void> {
    const admitted = await scope.run(tenantId, () => queue.admitOldest(tenantId, limit));
    if (admitted.length) await startAll(tenantId, admitted);
  }

  async function sweepTenant(tenantId: string): Promise<void> {
    const lost = await scope.run(tenantId, async () => ((await queue.hasWaitingWork()) ? queue.lostStarts(lostStartAfterMs, LOST_STARTS_PER_TENANT) : null));
    if (lost === null) return;
    if (lost.length) {
      logger.info({ tenantId, executions: lost.map((r) => r.id) }, 'run admission: starting admitted runs whose start was lost');
      await startAll(tenantId, lost);
    }
    await release(tenantId);
  }

  async function sweep(): Promise<void> {
    const tenants = await deps.tenantIds(sweepCursor, SWEEP_TENANTS_PER_TICK);
    sweepCursor = tenants.length === SWEEP_TENANTS_PER_TICK ? tenants[tenants.length - 1]! : null;
    for (const tenantId of tenants) {
      if (!running) return;
      // A tenant deleted meanwhile (its schema is gone) must not stop the sweep of the others.
      await sweepTenant(tenantId).catch((err: unknown) => logger.debug({ err, tenantId }, 'run admission: sweep of a tenant failed'));
    }
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      const p = sweep().catch((err: unknown) => logger.warn({ err }, 'run admission: sweep failed'));
      track(p);
      void p.finally(() => {
        if (running) schedule(deps.sweepMs ?? RUN_ADMISSION_SWEEP_MS);
      });
    }, delayMs);
  }

  deps.subscriber.on('message', (channel: string, raw: string) => {
    if (channel !== RUN_ENDED_CHANNEL || !running) return;
    let tenantId: unknown;
    try {
      tenantId = (JSON.parse(raw) as { tenantId?: unknown }).tenantId;
    } catch {
      return;
    }
    // Another deployment's tenant on a shared Redis fails its scope lookup: logged at debug by `track`.
    if (typeof tenantId === 'string') track(release(tenantId));
  });

  return {
    async admit(tenantId, executionId) {
      const { own, others } = await scope.run(tenantId, async () => {
        const admitted = await queue.admitOldest(tenantId, limit);
        const mine = admitted.some((r) => r.id === executionId) || (await queue.isAdmittedPending(executionId));
        return { own: mine, others: admitted.filter((r) => r.id !== executionId) };
      });
      if (others.length) track(startAll(tenantId, others));
      return own;
    },

    release: (tenantId) => release(tenantId),

    async cancelQueued(tenantId, executionId, by, at) {
      const stored = await scope.run(tenantId, async (): Promise<ExecutionEvent[] | null> => {
        if (!(await queue.cancelQueued(tenantId, executionId, by, at))) return null;
        await executions.settleOpenNodes(executionId, 'cancelled', at);
        return progress.apply({ executionId, events: [{ type: 'execution.cancelled', at: at.toISOString(), key: `${executionId}:queued-cancel`, data: { queued: true } }] });
      });
      if (!stored) return false;
      for (const event of stored) await deps.redis.publish(executionChannel(tenantId, executionId), JSON.stringify(event)).catch(() => undefined);
      return true;
    },

    start() {
      if (running) return;
      running = true;
      const subscribe = () => void deps.subscriber.subscribe(RUN_ENDED_CHANNEL).catch((err: unknown) => logger.warn({ err }, 'run admission: could not subscribe'));
      if (deps.subscriber.status === 'ready') subscribe();
      else deps.subscriber.once('ready', subscribe);
      // The first sweep at once: what a restart left queued starts without waiting for a tick.
      schedule(0);
    },

    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await deps.subscriber.unsubscribe(RUN_ENDED_CHANNEL).catch(() => undefined);
      await Promise.all([...underway]);
    },
  };
}
