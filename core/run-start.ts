// What every start of a run decides before anything is written: the saved version compiles, the inputs fit its
// trigger and the size cap, and the execution row that records the run (its id, plan, Temporal workflow id and
// trigger). The API, a schedule's firing and a child execution (subflow node, workflow tool) all start here, so
// a run starts the same way whoever starts it; ExecutionRepository.insert is the one place that writes the row.
import type { ExecutionTrigger } from './api-views';
import { compileGraph, GraphInvalidError } from './compile';
import { temporalWorkflowId } from './events';
import type { CanvasGraph } from './graph';
import { checkRunInputs } from './inputs';
import { INPUTS_TOO_LARGE, formatBytes, jsonBytes, type OutputLimits } from './limits';
import type { RunPlan } from './plan';

/** The execution row a start records (db/repositories/executions.ts NewExecution). */
export interface RunRecord {
  id: string;
  workflowId: string;
  workflowVersion: number;
  inputs: Record<string, unknown>;
  plan: RunPlan;
  idempotencyKey: string | null;
  temporalWorkflowId: string;
  startedBy: string | null;
  trigger: ExecutionTrigger;
  parentExecutionId?: string | null;
  /** The run a retry re-runs (server/services/execution-service.ts retry). */
  retryOf?: string | null;
}

/** Why a start is refused: `status` is what the API answers; a worker fails the start with `code`. */
export interface RunStartProblem {
  code: 'GRAPH_INVALID' | 'INPUTS_INVALID' | typeof INPUTS_TOO_LARGE;
  status: 413 | 422;
  message: string;
  details: Record<string, unknown>;
}

export interface RunStartRequest {
  tenantId: string;
  executionId: string;
  workflowId: string;
  version: number;
  graph: CanvasGraph;
  inputs: unknown;
  runInputsMaxBytes: number;
  /** The starter's caps on node values, fixed in the plan (RunPlan.limits). */
  outputLimits?: OutputLimits;
  idempotencyKey: string | null;
  startedBy: string | null;
  trigger: ExecutionTrigger;
  parentExecutionId?: string;
}

/** The row of a run of `graph` (version `version`), or why it cannot start. Pure. */
export function prepareRunStart(r: RunStartRequest): { ok: true; record: RunRecord } | { ok: false; problem: RunStartProblem } {
  let plan: RunPlan;
  try {
    plan = compileGraph(r.graph, { workflowId: r.workflowId, workflowVersion: r.version });
    if (r.outputLimits) plan.limits = { nodeOutputMaxBytes: r.outputLimits.nodeOutputMaxBytes, runOutputsMaxBytes: r.outputLimits.runOutputsMaxBytes };
  } catch (err) {
    if (!(err instanceof GraphInvalidError)) throw err;
    return { ok: false, problem: { code: 'GRAPH_INVALID', status: 422, message: `version ${r.version} of workflow ${r.workflowId} has validation problems`, details: { errors: err.problems } } };
  }
  const checked = checkRunInputs(plan.inputs, r.inputs);
  if (!checked.ok) {
    const fields = checked.problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ');
    return { ok: false, problem: { code: 'INPUTS_INVALID', status: 422, message: `the run inputs do not match the trigger (${fields})`, details: { issues: checked.problems } } };
  }
  const bytes = jsonBytes(checked.inputs);
  if (bytes > r.runInputsMaxBytes) {
    return {
      ok: false,
      problem: {
        code: INPUTS_TOO_LARGE,
        status: 413,
        message: `the run inputs are ${formatBytes(bytes)}, above the ${formatBytes(r.runInputsMaxBytes)} limit (RUN_INPUTS_MAX_BYTES=${r.runInputsMaxBytes})`,
        details: { bytes, maxBytes: r.runInputsMaxBytes },
      },
    };
  }
  return {
    ok: true,
    record: {
      id: r.executionId,
      workflowId: r.workflowId,
      workflowVersion: r.version,
      inputs: checked.inputs,
      plan,
      idempotencyKey: r.idempotencyKey,
      temporalWorkflowId: temporalWorkflowId(r.tenantId, r.executionId),
      startedBy: r.startedBy,
      trigger: r.trigger,
      ...(r.parentExecutionId ? { parentExecutionId: r.parentExecutionId } : {}),
    },
  };
}
