// The API's only door to Temporal for canvas runs. Every call builds its workflow id from the caller's
// tenant id, so a signal, update, query, cancel or describe can never reach another tenant's run.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { temporalWorkflowId } from '../../core/events';
import type { ExecutionStatus } from '../../core/events';
import type { DecideRequest } from '../../core/approval';
import {
  CANVAS_RUN_WORKFLOW,
  DECIDE_UPDATE,
  type ApprovalDecisionResult,
  STATE_QUERY,
  type CanvasRunInput,
  type RunStateView,
  temporalText,
} from '../../core/run-protocol';
import { DEFAULT_RUN_MAX_PARALLEL_NODES } from '../../core/scheduler';
import { tesseraSearchAttributes } from './search-attributes';
import { waitClosed } from './wait-closed';

/** Temporal's closed statuses as execution statuses; open ones map to null (the row is authoritative then). */
const CLOSED_STATUS: Record<string, ExecutionStatus> = {
  COMPLETED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'cancelled',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: 'running',
};

export interface RunDescription {
  runId: string;
  temporalStatus: string;
  closedAs: ExecutionStatus | null;
  /** For a run terminated in Temporal: who did it and why, as Temporal recorded them (null: not recorded). */
  terminated?: { identity: string | null; reason: string | null };
}

/** temporal.api.enums.v1.HistoryEventFilterType: only the event that closed the workflow. */
const HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT = 2;

export class RunClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    /** RUN_MAX_PARALLEL_NODES: every run this client starts carries it in its input (CanvasRunInput.maxParallelNodes). */
    private readonly maxParallelNodes: number = DEFAULT_RUN_MAX_PARALLEL_NODES,
  ) {}

  private handle(tenantId: string, executionId: string): WorkflowHandle {
    return this.client.workflow.getHandle(temporalWorkflowId(tenantId, executionId));
  }

  /**
   * Starts the run; a second start of the same execution returns the first run (idempotent), also once that run
   * has closed: an execution's workflow id never runs twice, so a start repeated late (the run admission's sweep
   * re-making a start it thinks lost) cannot run a finished execution again.
   */
  async start(input: CanvasRunInput & { workflowId: string }): Promise<{ workflowId: string; runId: string }> {
    const { workflowId: canvasWorkflowId, ...args } = input;
    const id = temporalWorkflowId(input.tenantId, input.executionId);
    try {
      const handle = await this.client.workflow.start(CANVAS_RUN_WORKFLOW, {
        workflowId: id,
        taskQueue: this.taskQueue,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [{ ...args, maxParallelNodes: args.maxParallelNodes ?? this.maxParallelNodes }],
        typedSearchAttributes: tesseraSearchAttributes({ tenantId: input.tenantId, workflowId: canvasWorkflowId, executionId: input.executionId }),
      });
      return { workflowId: id, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const described = await this.handle(input.tenantId, input.executionId).describe();
      return { workflowId: id, runId: described.runId };
    }
  }

  async describe(tenantId: string, executionId: string): Promise<RunDescription | null> {
    try {
      const d = await this.handle(tenantId, executionId).describe();
      const name = d.status.name;
      const description: RunDescription = { runId: d.runId, temporalStatus: name, closedAs: CLOSED_STATUS[name] ?? null };
      if (name === 'TERMINATED') description.terminated = await this.termination(tenantId, executionId, d.runId);
      return description;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  /** The identity and reason on the run's WorkflowExecutionTerminated event (its close event, read alone). */
  private async termination(tenantId: string, executionId: string, runId: string): Promise<{ identity: string | null; reason: string | null }> {
    const { history } = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.client.options.namespace,
      execution: { workflowId: temporalWorkflowId(tenantId, executionId), runId },
      historyEventFilterType: HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    });
    const attributes = history?.events?.at(-1)?.workflowExecutionTerminatedEventAttributes;
    return { identity: temporalText(attributes?.identity), reason: temporalText(attributes?.reason) };
  }

  async queryState(tenantId: string, executionId: string): Promise<RunStateView> {
    return this.handle(tenantId, executionId).query<RunStateView>(STATE_QUERY);
  }

  /** Sends the `decide` update; its validator's refusals arrive as WorkflowUpdateFailedError. */
  async decide(tenantId: string, executionId: string, request: DecideRequest): Promise<ApprovalDecisionResult> {
    return this.handle(tenantId, executionId).executeUpdate<ApprovalDecisionResult, [DecideRequest]>(DECIDE_UPDATE, { args: [request] });
  }

  async cancel(tenantId: string, executionId: string): Promise<void> {
    await this.handle(tenantId, executionId).cancel();
  }

  /** Ends a run at once, with no cleanup in the workflow (deleting a tenant: its schema is about to go). */
  async terminate(tenantId: string, executionId: string, reason: string): Promise<void> {
    await this.handle(tenantId, executionId).terminate(reason);
  }

  /** Waits until the run closes, at most `timeoutMs`; resolves either way. */
  async waitClosed(tenantId: string, executionId: string, timeoutMs: number): Promise<void> {
    await waitClosed(this.handle(tenantId, executionId), timeoutMs);
  }
}
