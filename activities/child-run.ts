// The activities of a child execution (core/child-run.ts): record the child's execution row, an ordinary run of
// the child workflow's saved version with `parentExecutionId` and `trigger: {type: "subflow"}`, before the
// parent's driver starts it as a Temporal child workflow; and store the child's Temporal run id once it runs.
// The child's id is derived from its place under the parent (parent execution, node, tool call), so a retried
// activity or a replayed parent finds the row it recorded and never records a second one.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { QueryFailedError } from 'typeorm';
import { childChainProblem, childRunKey, DEFAULT_SUBFLOW_MAX_DEPTH, SUBFLOW_NOT_FOUND, type ChildRunRequest } from '../core/child-run';
import { isUuid } from '../core/ids';
import { DEFAULT_RUN_LIMITS, type OutputLimits } from '../core/limits';
import type { CanvasRunInput } from '../core/run-protocol';
import { prepareRunStart } from '../core/run-start';
import { ExecutionRepository, WorkflowRepository, type Execution, type TenantScope } from '../db';

/** What the driver needs to start the child: its Temporal id, the canvas workflow (search attribute), its input. */
export interface PreparedChildRun {
  executionId: string;
  temporalWorkflowId: string;
  canvasWorkflowId: string;
  run: CanvasRunInput;
}

export interface ChildRunActivityDeps {
  scope: TenantScope;
  /** How deep children may nest (SUBFLOW_MAX_DEPTH). */
  subflowMaxDepth?: number;
  runInputsMaxBytes?: number;
  /** The caps on node values a child run starts with (RunPlan.limits). */
  outputLimits?: OutputLimits;
}

/** A UUID (version 8, RFC 9562's custom layout) from a SHA-256 of `key`: the same key, the same id. */
export function derivedUuid(key: string): string {
  const b = createHash('sha256').update(key).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof QueryFailedError && (err.driverError as { code?: string } | undefined)?.code === '23505';
}

export function createChildRunActivities(deps: ChildRunActivityDeps) {
  const { scope } = deps;
  const maxDepth = deps.subflowMaxDepth ?? DEFAULT_SUBFLOW_MAX_DEPTH;
  const runInputsMaxBytes = deps.runInputsMaxBytes ?? DEFAULT_RUN_LIMITS.runInputsMaxBytes;
  const workflows = new WorkflowRepository(scope);
  const executions = new ExecutionRepository(scope);

  const prepared = (tenantId: string, chain: string[], e: Execution): PreparedChildRun => ({
    executionId: e.id,
    temporalWorkflowId: e.temporalWorkflowId,
    canvasWorkflowId: e.workflowId,
    run: { tenantId, executionId: e.id, plan: e.plan, inputs: e.inputs, ancestors: chain },
  });

  return {
    /** Records the child's row (once); refusals (a cycle, too deep, not found, bad inputs) are not retried. */
    async prepareChildRun(request: ChildRunRequest): Promise<PreparedChildRun> {
      const { tenantId, chain } = request;
      const problem = childChainProblem(chain, request.workflowId, maxDepth);
      if (problem) throw ApplicationFailure.nonRetryable(problem.message, problem.code);
      const executionId = derivedUuid(childRunKey(request));
      const record = () =>
        scope.run(tenantId, async () => {
          const existing = await executions.find(executionId);
          if (existing) return existing;
          // The lookup is in the caller tenant's schema: another tenant's workflow is not found, like an unknown one.
          const w = isUuid(request.workflowId) ? await workflows.find(request.workflowId.toLowerCase()) : null;
          if (!w) throw ApplicationFailure.nonRetryable(`workflow ${request.workflowId} not found`, SUBFLOW_NOT_FOUND);
          const version = request.version ?? w.currentVersion;
          const saved = await workflows.version(w.id, version);
          if (!saved) throw ApplicationFailure.nonRetryable(`workflow ${request.workflowId} has no version ${version}`, SUBFLOW_NOT_FOUND);
          const start = prepareRunStart({
            tenantId,
            executionId,
            workflowId: w.id,
            version,
            graph: saved.graph,
            inputs: request.inputs,
            runInputsMaxBytes,
            outputLimits: deps.outputLimits ?? DEFAULT_RUN_LIMITS,
            idempotencyKey: null,
            startedBy: `execution:${request.parentExecutionId}`,
            trigger: { type: 'subflow', parentExecutionId: request.parentExecutionId, nodeId: request.nodeId },
            parentExecutionId: request.parentExecutionId,
          });
          if (!start.ok) throw ApplicationFailure.nonRetryable(start.problem.message, start.problem.code, start.problem.details);
          return executions.insert(start.record);
        });
      try {
        return prepared(tenantId, chain, await record());
      } catch (err) {
        // Two attempts at once (a worker thought lost was not): the first row stands.
        const winner = isUniqueViolation(err) ? await scope.run(tenantId, () => executions.find(executionId)) : null;
        if (winner) return prepared(tenantId, chain, winner);
        throw err;
      }
    },

    async recordChildRunId(input: { tenantId: string; executionId: string; runId: string }): Promise<void> {
      await scope.run(input.tenantId, () => executions.setTemporalRunId(input.executionId, input.runId));
    },
  };
}
