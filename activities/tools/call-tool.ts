// The `callTool` activity: one tool call of an agent's loop (core/tool-loop.ts), dispatched on the tool's
// type. It heartbeats while the tool runs, so a worker that dies mid-call is noticed within the heartbeat
// timeout and the call is tried again on another worker; a call that completed is in the run's history and
// never runs again. Failures keep the tool's words: the run machine hands them to the model.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { HttpTool, Tool } from '../../core/graph';
import type { ToolCallRequest } from '../../core/tool-loop';
import { heartbeatWhile } from '../llm/turn-heartbeat';
import type { ActivityMetrics } from '../activity-metrics';

export interface CallToolInput {
  tenantId: string;
  executionId: string;
  nodeId: string;
  round: number;
  call: ToolCallRequest;
  tool: Tool;
  /** What the tool's templates see besides `args`. */
  scope: { inputs: Record<string, unknown>; nodes: Record<string, unknown> };
}

export interface CallToolOutput {
  result: unknown;
  durationMs: number;
}

/** How each tool type runs (activities/tools/http-tool.ts and mcp-tool.ts, bound to the worker's settings). */
export interface ToolRunners {
  http?: (request: { tenantId: string; tool: HttpTool; args: unknown; scope: CallToolInput['scope'] }) => Promise<unknown>;
  mcp?: (request: { tenantId: string; serverId: string; toolName: string; args: unknown }) => Promise<unknown>;
}

export interface ToolActivityDeps {
  toolRunners?: ToolRunners;
  now?: () => number;
  /** The worker's metrics (worker/metrics.ts); absent: nothing is counted. */
  metrics?: ActivityMetrics;
}

export const TOOL_FAILED = 'TOOL_FAILED';
export const TOOL_UNAVAILABLE = 'TOOL_UNAVAILABLE';
const TOOL_HEARTBEAT_INTERVAL_MS = 1000;

/** An error that says whether another attempt may help (activities/tools/tool-error.ts's ToolError does). */
interface RetryAware {
  retryable?: unknown;
  code?: unknown;
}

export function createToolActivities(deps: ToolActivityDeps) {
  const now = deps.now ?? Date.now;
  const runners = deps.toolRunners ?? {};

  function dispatch(input: CallToolInput): Promise<unknown> {
    const { tool, tenantId, call } = input;
    if (tool.type === 'http' && runners.http) return runners.http({ tenantId, tool, args: call.arguments, scope: input.scope });
    if (tool.type === 'mcp' && runners.mcp) return runners.mcp({ tenantId, serverId: tool.serverId, toolName: call.name, args: call.arguments });
    throw ApplicationFailure.nonRetryable(`${tool.type} tools cannot run on this worker`, TOOL_UNAVAILABLE);
  }

  return {
    async callTool(input: CallToolInput): Promise<CallToolOutput> {
      const ctx = Context.current();
      const startedAt = now();
      try {
        const result = await heartbeatWhile({ signal: ctx.cancellationSignal, heartbeat: (d?: unknown) => ctx.heartbeat(d) }, TOOL_HEARTBEAT_INTERVAL_MS, Promise.resolve().then(() => dispatch(input)));
        const durationMs = now() - startedAt;
        deps.metrics?.toolCall({ toolType: input.tool.type, outcome: 'succeeded', seconds: durationMs / 1000 });
        return { result, durationMs };
      } catch (err) {
        deps.metrics?.toolCall({ toolType: input.tool.type, outcome: ctx.cancellationSignal.aborted ? 'cancelled' : 'failed', seconds: (now() - startedAt) / 1000 });
        if (err instanceof ApplicationFailure) throw err;
        const { retryable, code } = (err ?? {}) as RetryAware;
        const message = err instanceof Error ? err.message : String(err);
        // Not retryable unless the tool says so: a refused address or a bad template fails the same way again.
        throw ApplicationFailure.create({ message, type: typeof code === 'string' ? code : TOOL_FAILED, nonRetryable: retryable !== true });
      }
    },
  };
}
