// Execution use cases: start a run (validate, compile, record, start on Temporal), read it with its
// node state, list, read its events, cancel. Temporal owns run state: a row that disagrees with a
// closed Temporal run is repaired when read, if the row is stale or the reader asks (repair-gate.ts).
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { QueryFailedError } from 'typeorm';
import type { ExecutionTrigger, ExecutionTriggerType, ExecutionView } from '../../core/api-views';
import { causeChainMessage } from '../../core/error-cause';
import { AppError, Conflict, NotFound, ValidationFailed } from '../../core/errors';
import { TERMINAL_EXECUTION_STATUSES, type ExecutionEvent, type ExecutionStatus } from '../../core/events';
import { DEFAULT_RUN_LIMITS, type OutputLimits } from '../../core/limits';
import { prepareRunStart } from '../../core/run-start';
import { planRetry } from '../../core/retry-plan';
import { DEFAULT_MODEL_PRICES, type ModelPrices } from '../../core/model-prices';
import type { Execution, ExecutionPageKey, ExecutionRepository, NodeExecution, TenantScope, WorkflowRepository } from '../../db';
import type { RunClient, RunDescription } from '../temporal/run-client';
import type { RunAdmission } from './run-admission';
import { isChildRun, isQueuedRun } from '../../core/run-admission';
import type { FinishedRuns } from './finished-runs';
import { requireUuid } from './ids';
import { createRepairGate, DEFAULT_REPAIR_STALE_MS, lastProgressAt } from './repair-gate';

export class TemporalUnavailable extends AppError {
  constructor(message: string) {
    super('TEMPORAL_UNAVAILABLE', 503, message);
  }
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export interface ExecutionServiceDeps {
  scope: TenantScope;
  workflows: WorkflowRepository;
  executions: ExecutionRepository;
  runs: RunClient;
  temporalUiUrl: string;
  namespace: string;
  /** How long a cancel waits for the run to record it before answering. */
  cancelWaitMs?: number;
  /** Largest run inputs as JSON bytes: they travel in the run's first Temporal payload (default DEFAULT_RUN_LIMITS). */
  runInputsMaxBytes?: number;
  /** The caps on node values a run starts with, recorded in its plan (default DEFAULT_RUN_LIMITS, as the worker's). */
  outputLimits?: OutputLimits;
  /** How long an open run's row may show no progress before a read asks Temporal (default DEFAULT_REPAIR_STALE_MS). */
  repairStaleMs?: number;
  /** Finished runs kept in memory (server/services/finished-runs.ts); every read goes to the database without. */
  finishedRuns?: FinishedRuns;
  /** Fair share between tenants (server/services/run-admission.ts); without it every start starts at once. */
  admission?: RunAdmission;
  /** What tokens cost, for the runs list (config MODEL_PRICES; DEFAULT_MODEL_PRICES when absent). */
  modelPrices?: ModelPrices;
  now?: () => Date;
}

/** A refusal a pure step (core/run-start.ts, core/retry-plan.ts) answered, as the HTTP error it is. */
function problemError(p: { code: string; status: number; message: string; details?: Record<string, unknown> }): AppError {
  return new AppError(p.code, p.status, p.message, p.details);
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof QueryFailedError && (err.driverError as { code?: string } | undefined)?.code === '23505';
}

/** A page key's time as the repository writes it (microseconds; a cursor of older releases has milliseconds). */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export function encodeCursor(key: ExecutionPageKey): string {
  return Buffer.from(JSON.stringify([key.createdAt, key.id])).toString('base64url');
}

export function decodeCursor(cursor: string): ExecutionPageKey {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at !== 'string' || !CURSOR_TIME.test(at) || Number.isNaN(new Date(at).getTime()) || typeof id !== 'string') throw new Error('bad cursor');
    return { createdAt: at, id: requireUuid(id, 'cursor') };
  } catch {
    throw new ValidationFailed('cursor is not a cursor this API returned', { issues: [{ path: ['cursor'], message: 'invalid cursor', code: 'invalid' }] });
  }
}

export function createExecutionService(deps: ExecutionServiceDeps) {
  const { scope, workflows, executions, runs } = deps;
  const now = deps.now ?? (() => new Date());
  const runInputsMaxBytes = deps.runInputsMaxBytes ?? DEFAULT_RUN_LIMITS.runInputsMaxBytes;
  const outputLimits = deps.outputLimits ?? DEFAULT_RUN_LIMITS;
  const modelPrices = deps.modelPrices ?? DEFAULT_MODEL_PRICES;
  const repairGate = createRepairGate({ staleMs: deps.repairStaleMs ?? DEFAULT_REPAIR_STALE_MS, now: () => now().getTime() });

  function uiUrl(workflowId: string, runId: string | null): string {
    const base = `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
    return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
  }

  function view(e: Execution, nodes?: NodeExecution[]): ExecutionView {
    return {
      id: e.id,
      // Waiting for a slot of the tenant's share (run admission).
      ...(e.admittedAt !== undefined ? { queued: isQueuedRun({ ...e, parentExecutionId: e.parentExecutionId ?? null }) } : {}),
      workflowId: e.workflowId,
      workflowVersion: e.workflowVersion,
      status: e.status,
      inputs: e.inputs,
      outputs: e.outputs,
      error: e.error,
      usage: e.usage,
      startedBy: e.startedBy,
      trigger: e.trigger,
      parentExecutionId: e.parentExecutionId ?? null,
      retryOf: e.retryOf ?? null,
      cancelledBy: e.cancelledBy ?? null,
      createdAt: iso(e.createdAt)!,
      startedAt: iso(e.startedAt),
      finishedAt: iso(e.finishedAt),
      temporal: { workflowId: e.temporalWorkflowId, runId: e.temporalRunId, uiUrl: uiUrl(e.temporalWorkflowId, e.temporalRunId) },
      ...(nodes
        ? {
            nodes: nodes.map((n) => ({
              nodeId: n.nodeId,
              type: n.nodeType,
              status: n.status,
              attempts: n.attempts,
              input: n.input,
              output: n.output ?? null,
              error: n.error,
              usage: n.usage,
              startedAt: iso(n.startedAt),
              finishedAt: iso(n.finishedAt),
              ...(e.plan?.reuse?.nodes[n.nodeId] ? { reusedFrom: e.plan.reuse.from } : {}),
            })),
          }
        : {}),
    };
  }

  async function load(id: string): Promise<Execution> {
    const e = await executions.find(requireUuid(id, 'execution'));
    if (!e) throw new NotFound(`execution ${id} not found`);
    return e;
  }

  /** Starts the Temporal run of a recorded execution and stores its run id. */
  /**
   * Records a new run at most once per Idempotency-Key: a row the key already names answers as it is, and of
   * two concurrent requests with one key the loser answers with the winner's row.
   */
  async function recordOnce(tenantId: string, idempotencyKey: string | null, make: () => Promise<Execution>): Promise<{ execution: Execution; created: boolean }> {
    try {
      return await scope.run(tenantId, async () => {
        if (idempotencyKey) {
          const existing = await executions.findByIdempotencyKey(idempotencyKey);
          if (existing) return { execution: existing, created: false };
        }
        return { execution: await make(), created: true };
      });
    } catch (err) {
      if (idempotencyKey && isUniqueViolation(err)) {
        const winner = await scope.run(tenantId, () => executions.findByIdempotencyKey(idempotencyKey));
        if (winner) return { execution: winner, created: false };
      }
      throw err;
    }
  }

  async function launch(tenantId: string, e: Execution): Promise<Execution> {
    // A top-level run starts only with a slot of its tenant's share; queued, it stays pending (run admission).
    if (deps.admission && !isChildRun({ parentExecutionId: e.parentExecutionId ?? null })) {
      if (!(await deps.admission.admit(tenantId, e.id))) return e;
      e.admittedAt ??= now();
    }
    try {
      const { runId } = await runs.start({ tenantId, executionId: e.id, workflowId: e.workflowId, plan: e.plan, inputs: e.inputs });
      await scope.run(tenantId, () => executions.setTemporalRunId(e.id, runId));
      e.temporalRunId = runId;
      return e;
    } catch (err) {
      const message = `could not start the run on Temporal: ${causeChainMessage(err)}`;
      await scope.run(tenantId, () =>
        executions.updateStatus(e.id, { status: 'failed', error: { code: 'START_FAILED', message }, finishedAt: now() }),
      );
      releaseSlot(tenantId);
      throw new TemporalUnavailable(message);
    }
  }

  /** The error a run ended in Temporal without recording its end gets; a termination says who and why. */
  function closedError(closedAs: ExecutionStatus, described: RunDescription): { code: string; message: string } {
    const t = described.terminated;
    if (!t) return { code: `RUN_${closedAs.toUpperCase()}`, message: `the run was ${described.temporalStatus.toLowerCase()} in Temporal` };
    const by = t.identity ? ` by ${t.identity}` : '';
    return { code: 'RUN_TERMINATED', message: `the run was terminated in Temporal${by}${t.reason ? `: ${t.reason}` : ''}` };
  }

  /** Brings a non-terminal row in line with Temporal when Temporal says the run is over. */
  async function repair(tenantId: string, e: Execution): Promise<Execution> {
    if (TERMINAL_EXECUTION_STATUSES.includes(e.status) || !e.temporalRunId) return e;
    let described;
    try {
      described = await runs.describe(tenantId, e.id);
    } catch {
      return e; // Temporal unreachable: show what we have.
    }
    if (!described?.closedAs || described.closedAs === 'running') return e;
    const closedAs = described.closedAs;
    const repaired = await scope.run(tenantId, async () => {
      const fresh = await load(e.id);
      if (TERMINAL_EXECUTION_STATUSES.includes(fresh.status)) return fresh;
      const at = now();
      const error = closedAs === 'succeeded' ? null : fresh.error ?? closedError(closedAs, described);
      // Who terminated it, where Temporal recorded them; a cancel asked through the API keeps its asker.
      const cancelledBy = fresh.cancelledBy ?? (described.terminated?.identity ? `temporal:${described.terminated.identity}` : null);
      await executions.updateStatus(fresh.id, { status: closedAs, error, finishedAt: at, cancelledBy });
      await executions.settleOpenNodes(fresh.id, closedAs === 'succeeded' ? 'cancelled' : closedAs === 'failed' ? 'failed' : 'cancelled', at);
      return load(e.id);
    });
    if (TERMINAL_EXECUTION_STATUSES.includes(repaired.status)) releaseSlot(tenantId);
    return repaired;
  }

  /** This process recorded a run's end: the tenant's next queued runs take the slot (run admission; the sweep repairs a miss). */
  function releaseSlot(tenantId: string): void {
    void deps.admission?.release(tenantId).catch(() => undefined);
  }

  /**
   * Ends a run that did not record its cancel in time (no worker can advance it: the workflow task keeps
   * failing, or no worker is up) by terminating it, and records it cancelled with a note saying so.
   */
  async function terminateUnresponsive(tenantId: string, id: string, waitedMs: number): Promise<void> {
    const described = await runs.describe(tenantId, id).catch(() => null);
    if (!described || described.closedAs !== null) return; // closed meanwhile (or unknown): `get` repairs the row
    const message = `the run did not record the cancel within ${waitedMs} ms (no worker could advance it), so it was terminated`;
    try {
      await runs.terminate(tenantId, id, message);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return; // it closed just now
      throw new TemporalUnavailable(`could not terminate the run: ${causeChainMessage(err)}`);
    }
    await scope.run(tenantId, async () => {
      const fresh = await load(id);
      if (TERMINAL_EXECUTION_STATUSES.includes(fresh.status)) return;
      const at = now();
      await executions.updateStatus(fresh.id, { status: 'cancelled', error: { code: 'RUN_TERMINATED', message }, finishedAt: at });
      await executions.settleOpenNodes(fresh.id, 'cancelled', at);
    });
    releaseSlot(tenantId);
  }

  return {
    async start(
      tenantId: string,
      startedBy: string | null,
      workflowId: string,
      body: { inputs?: unknown; version?: number },
      idempotencyKey: string | null,
      /** What started it (the MCP endpoint says mcp); by default `api` for an API key's start, else `manual`. */
      trigger: ExecutionTrigger = { type: startedBy?.startsWith('api_key:') ? 'api' : 'manual' },
    ): Promise<{ execution: ExecutionView; created: boolean }> {
      const recorded = await recordOnce(tenantId, idempotencyKey, async () => {
        const w = await workflows.find(requireUuid(workflowId, 'workflow'));
        if (!w) throw new NotFound(`workflow ${workflowId} not found`);
        const version = body.version ?? w.currentVersion;
        const saved = await workflows.version(w.id, version);
        if (!saved) throw new NotFound(`workflow ${workflowId} has no version ${version}`);
        const prepared = prepareRunStart({
          tenantId,
          executionId: randomUUID(),
          workflowId: w.id,
          version,
          graph: saved.graph,
          inputs: body.inputs ?? {},
          runInputsMaxBytes,
          outputLimits,
          idempotencyKey,
          startedBy,
          trigger,
        });
        if (!prepared.ok) throw problemError(prepared.problem);
        return executions.insert(prepared.record);
      });

      const e = recorded.execution;
      if (!recorded.created && e.workflowId !== workflowId.toLowerCase()) {
        throw new Conflict('this Idempotency-Key was used for another workflow', { executionId: e.id });
      }
      // A retried POST whose first attempt recorded the row but never reached Temporal starts it now.
      if (e.status === 'pending' && !e.temporalRunId) await launch(tenantId, e);
      return { execution: view(e), created: recorded.created };
    },

    /**
     * A new run of a finished one (DESIGN.md §8): the same inputs, on the version it ran or the latest, keeping
     * the recorded results of every node not downstream of `fromNodeId` (the failed node by default) as
     * core/retry-plan.ts decides; outputs come from the node rows, handles from their `node.succeeded` events.
     */
    async retry(
      tenantId: string,
      startedBy: string | null,
      id: string,
      body: { fromNodeId?: string; version?: 'original' | 'latest' },
      idempotencyKey: string | null,
    ): Promise<{ execution: ExecutionView; created: boolean }> {
      const version = body.version ?? 'original';
      const recorded = await recordOnce(tenantId, idempotencyKey, async () => {
        const old = await load(id);
        if (!TERMINAL_EXECUTION_STATUSES.includes(old.status)) {
          throw new Conflict(`execution ${old.id} is ${old.status}: only a finished run can be retried`, { status: old.status });
        }
        const w = await workflows.find(old.workflowId);
        if (!w) throw new NotFound(`workflow ${old.workflowId} not found`);
        const number = version === 'latest' ? w.currentVersion : old.workflowVersion;
        const saved = await workflows.version(w.id, number);
        if (!saved) throw new NotFound(`workflow ${w.id} has no version ${number}`);
        const prepared = prepareRunStart({
          tenantId,
          executionId: randomUUID(),
          workflowId: w.id,
          version: number,
          graph: saved.graph,
          inputs: old.inputs,
          runInputsMaxBytes,
          outputLimits,
          idempotencyKey,
          startedBy,
          trigger: { type: 'retry', retryOf: old.id },
        });
        if (!prepared.ok) throw problemError(prepared.problem);
        const rows = await executions.nodes(old);
        const handles = await executions.succeededHandles(old.id);
        const planned = planRetry({
          executionId: old.id,
          before: old.plan,
          plan: prepared.record.plan,
          version,
          recorded: Object.fromEntries(rows.map((n) => [n.nodeId, { status: n.status, output: n.output ?? null, handle: handles[n.nodeId] ?? null }])),
          ...(body.fromNodeId !== undefined ? { fromNodeId: body.fromNodeId } : {}),
        });
        if (!planned.ok) throw problemError(planned.problem);
        return executions.insert({ ...prepared.record, plan: { ...prepared.record.plan, reuse: planned.reuse }, retryOf: old.id });
      });
      const e = recorded.execution;
      if (!recorded.created && e.retryOf !== id.toLowerCase()) {
        throw new Conflict('this Idempotency-Key was used for another request', { executionId: e.id });
      }
      if (e.status === 'pending' && !e.temporalRunId) await launch(tenantId, e);
      return { execution: view(e), created: recorded.created };
    },

    /**
     * One database read; Temporal is asked only when the open run's row is stale or `refresh` is set
     * (server/services/repair-gate.ts).
     */
    async get(tenantId: string, id: string, opts: { refresh?: boolean } = {}): Promise<ExecutionView> {
      const read = () =>
        scope.run(tenantId, async () => {
          const e = await load(id);
          return { e, nodes: await executions.nodes(e) };
        });
      const kept = deps.finishedRuns?.lookup(tenantId, id);
      if (kept && 'view' in kept) return kept.view;
      const { e, nodes } = await read();
      if (TERMINAL_EXECUTION_STATUSES.includes(e.status)) {
        const finished = view(e, nodes);
        kept?.keep(finished);
        return finished;
      }
      if (!e.temporalRunId) return view(e, nodes);
      if (!repairGate.shouldAsk(e.id, lastProgressAt(e, nodes), opts.refresh ?? false)) return view(e, nodes);
      const repaired = await repair(tenantId, e);
      if (repaired === e) {
        repairGate.asked(e.id);
        return view(e, nodes);
      }
      const fresh = await read();
      return view(fresh.e, fresh.nodes);
    },

    async list(tenantId: string, filter: { workflowId?: string; statuses?: ExecutionStatus[]; triggers?: ExecutionTriggerType[]; from?: Date; to?: Date; limit: number; cursor?: string }) {
      const workflowId = filter.workflowId ? requireUuid(filter.workflowId, 'workflow') : undefined;
      return scope.run(tenantId, async () => {
        if (workflowId && !(await executions.hasWorkflow(workflowId))) throw new NotFound(`workflow ${workflowId} not found`);
        const rows = await executions.list({
          limit: filter.limit + 1,
          ...(workflowId ? { workflowId } : {}),
          ...(filter.statuses ? { statuses: filter.statuses } : {}),
          ...(filter.triggers ? { triggers: filter.triggers } : {}),
          ...(filter.from ? { from: filter.from } : {}),
          ...(filter.to ? { to: filter.to } : {}),
          ...(filter.cursor ? { cursor: decodeCursor(filter.cursor) } : {}),
        });
        const page = rows.slice(0, filter.limit);
        const last = page[page.length - 1];
        const details = await executions.listDetails(page.map((e) => e.id), modelPrices);
        return {
          items: page.map((e) => ({ ...view(e), workflowName: details.get(e.id)?.workflowName ?? null, costUsd: details.get(e.id)?.costUsd ?? null })),
          nextCursor: rows.length > filter.limit && last ? encodeCursor(last.pageKey) : null,
        };
      });
    },

    async events(tenantId: string, id: string, after: number, limit: number): Promise<{ events: ExecutionEvent[]; lastSeq: number }> {
      return scope.run(tenantId, async () => {
        const e = await load(id);
        return { events: await executions.events(e.id, after, limit), lastSeq: e.lastSeq };
      });
    },

    /** Asks Temporal to cancel and waits briefly for the run to record it; a run that cannot is terminated. */
    async cancel(tenantId: string, id: string, by: string, waitMs = deps.cancelWaitMs ?? 10_000): Promise<ExecutionView> {
      const e = await scope.run(tenantId, async () => {
        const found = await load(id);
        if (TERMINAL_EXECUTION_STATUSES.includes(found.status)) {
          throw new Conflict(`execution ${id} is already ${found.status}`, { status: found.status });
        }
        // Recorded before asking Temporal, so the run's row says who ended it however it ends.
        await executions.updateStatus(found.id, { cancelledBy: by });
        return found;
      });
      // A run still waiting for a slot never reached Temporal: it is cancelled where it stands (run admission).
      if (deps.admission && (await deps.admission.cancelQueued(tenantId, e.id, by, now()))) return this.get(tenantId, id);
      try {
        await runs.cancel(tenantId, e.id);
      } catch (err) {
        throw new TemporalUnavailable(`could not cancel the run: ${(err as Error).message ?? String(err)}`);
      }
      await runs.waitClosed(tenantId, e.id, waitMs);
      await terminateUnresponsive(tenantId, e.id, waitMs);
      // Temporal has just said how the run ended: the answer reads it there rather than wait for staleness.
      return this.get(tenantId, id, { refresh: true });
    },
  };
}

export type ExecutionService = ReturnType<typeof createExecutionService>;
