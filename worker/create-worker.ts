// Builds the Temporal worker of the `tessera` task queue from already-created dependencies, so the
// process entry point and the tests assemble the very same worker.
import { Worker, bundleWorkflowCode, type ActivityExecuteInput, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import type { Ledger } from '../core/run-ledger';
import type { Duration, PayloadCodec } from '@temporalio/common';
import { TESSERA_FAILURE_CONVERTER_PATH, tesseraDataConverter } from '../db/temporal-payload-codec';
import type { TesseraActivities } from '../activities';
import { DEFAULT_TENANT_MAX_CONCURRENT_ACTIVITIES, DEFAULT_WORKER_MAX_CONCURRENT_ACTIVITIES } from '../core/worker-activity-limits';
import { TenantActivityGate, tenantActivityGateInterceptor } from './tenant-activity-gate';
import { activityMetricsInterceptor } from './activity-metrics-interceptor';
import type { WorkerMetrics } from './metrics';

/** Modules that the workflow bundle references but never calls (handlebars' `.hbs` require hook needs `fs`). */
export const WORKFLOW_BUNDLE_IGNORED_MODULES = ['fs'];

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

/**
 * Modules every workflow imports that only declare (zod schemas of the canvas, events and approvals, which no
 * workflow parses with, and their constants): loaded once into the worker's shared V8 context (and frozen
 * there), with zod which they import, instead of once per new workflow, where building the schemas was most
 * of a run's first workflow task (docs/decisions.md "Workflow start cost").
 */
export const WORKFLOW_PRELOADED_MODULES = ['../core/graph', '../core/events', '../core/approval'];

/** Bundles the workflow code once; pass the result to every worker of a process or test suite. */
export async function bundleWorkflows(): Promise<WorkflowBundleOption> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    ignoreModules: WORKFLOW_BUNDLE_IGNORED_MODULES,
    preloadModules: WORKFLOW_PRELOADED_MODULES.map((m) => require.resolve(m)),
    failureConverterPath: TESSERA_FAILURE_CONVERTER_PATH,
  });
  return { code };
}

export interface TesseraWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: TesseraActivities;
  workflowBundle: WorkflowBundleOption;
  /** The tenant payload codec (db/temporal-payload-codec.ts): every payload the worker writes is encrypted. */
  payloadCodec: PayloadCodec;
  identity?: string;
  shutdownGraceTime?: Duration;
  /** WORKER_MAX_CONCURRENT_ACTIVITIES and TENANT_MAX_CONCURRENT_ACTIVITIES (defaults: core/worker-activity-limits.ts). */
  maxConcurrentActivities?: number;
  maxConcurrentActivitiesPerTenant?: number;
  /** The process's metrics (worker/metrics.ts): every activity execution is timed by type and outcome. */
  metrics?: Pick<WorkerMetrics, 'activityFinished'>;
}

export async function createTesseraWorker(opts: TesseraWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    workflowBundle: opts.workflowBundle,
    dataConverter: tesseraDataConverter(opts.payloadCodec),
    ...(opts.identity ? { identity: opts.identity } : {}),
    shutdownGraceTime: opts.shutdownGraceTime ?? '10 seconds',
    // Fair share: one tenant executes at most its share of activities; its others wait in the gate, holding a
    // slot each, so the slots are many (docs/decisions.md "Fair share inside the worker").
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? DEFAULT_WORKER_MAX_CONCURRENT_ACTIVITIES,
    // The first interceptor is the outermost: the metrics one, inside the gate, times the activity without its wait.
    interceptors: {
      activity: [
        tenantActivityGateInterceptor(new TenantActivityGate(opts.maxConcurrentActivitiesPerTenant ?? DEFAULT_TENANT_MAX_CONCURRENT_ACTIVITIES), recordCarriedProgress(opts.activities)),
        ...(opts.metrics ? [activityMetricsInterceptor(opts.metrics)] : []),
      ],
    },
    // Cancellation reaches an activity only with a heartbeat's answer; the default throttle (80% of the
    // heartbeat timeout) would make a cancelled turn run on for seconds.
    maxHeartbeatThrottleInterval: '1 second',
  });
}

/**
 * For an activity that waits in the tenant gate: writes the run's progress it carries (an agent or conversation
 * turn's `ledger`) now, as the activity itself would first thing. The write is idempotent per entry, so the
 * activity writing it again once it runs stores nothing twice.
 */
function recordCarriedProgress(activities: TesseraActivities): (input: ActivityExecuteInput) => Promise<void> {
  return async (input) => {
    const arg = input.args[0] as { tenantId?: unknown; executionId?: unknown; ledger?: Ledger } | undefined;
    const ledger = arg?.ledger;
    if (!ledger || typeof arg.tenantId !== 'string' || typeof arg.executionId !== 'string') return;
    if (ledger.events.length === 0 && ledger.nodes.length === 0 && !ledger.execution) return;
    await activities.recordProgress({ tenantId: arg.tenantId, executionId: arg.executionId, ...ledger });
  };
}
