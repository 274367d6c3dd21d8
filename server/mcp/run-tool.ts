// Calling a workflow's MCP tool: start an ordinary execution (trigger `mcp`) and wait, bounded, for it to
// end. What the client gets back says plainly how the run stands: its outputs, its error, or its execution id
// when it waits on a human or is still going when the wait is over (it goes on either way).
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ExecutionView } from '../../core/api-views';
import { AppError } from '../../core/errors';
import { TERMINAL_EXECUTION_STATUSES } from '../../core/events';
import type { Principal } from '../auth/principal';
import { actorOf } from '../auth/principal';
import { hasRole } from '../rbac';
import type { ExecutionService } from '../services/execution-service';

/** Every tool declares this result shape, so a client that reads `structuredContent` knows its fields. */
export const RUN_RESULT_SCHEMA = {
  type: 'object',
  properties: {
    executionId: { type: 'string' },
    status: { type: 'string', description: 'succeeded, or waiting / running / pending when the run did not end within the wait' },
    outputs: { type: 'object', description: 'the run outputs, when it succeeded' },
  },
  required: ['executionId', 'status'],
} as const;

/** Below the 60 s an MCP client's request waits by default (the TypeScript SDK's), so the answer arrives. */
export const DEFAULT_MCP_TOOL_WAIT_MS = 30_000;

export interface RunToolDeps {
  executions: Pick<ExecutionService, 'start' | 'get'>;
  /** How long a call waits for its run to end (config MCP_TOOL_WAIT_SECONDS; DEFAULT_MCP_TOOL_WAIT_MS when absent). */
  waitMs?: number;
  /** Longest pause between two reads of an open run's row (the pauses grow to it from 100 ms). */
  pollMs?: number;
  /** Counts a run start against the tenant's allowance; throws TooManyRequests when it is spent. */
  countRunStart?: (tenantId: string) => Promise<void>;
}

function text(message: string, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: message }], ...(isError ? { isError: true } : {}) };
}

/**
 * Reads the run's row until it ends, waits on a human, the wait is over or the client gives up. The row, not
 * Temporal: a run writes its end there before it closes and its pending approval only there, and a read is one
 * select (an abandoned Temporal long-poll would outlive the call until the run closes, days for an approval).
 */
async function waitForEnd(deps: RunToolDeps, tenantId: string, executionId: string, signal: AbortSignal): Promise<ExecutionView> {
  const deadline = Date.now() + (deps.waitMs ?? DEFAULT_MCP_TOOL_WAIT_MS);
  let pause = 100;
  for (;;) {
    const view = await deps.executions.get(tenantId, executionId);
    if (TERMINAL_EXECUTION_STATUSES.includes(view.status) || view.status === 'waiting') return view;
    const remaining = deadline - Date.now();
    if (remaining <= 0 || signal.aborted) return view;
    await sleep(Math.min(pause, remaining), signal);
    pause = Math.min(pause * 1.5, deps.pollMs ?? 1000);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function describeEnd(view: ExecutionView, waitMs: number): CallToolResult {
  const id = view.id;
  if (view.status === 'succeeded') {
    const outputs = view.outputs ?? {};
    return { ...text(JSON.stringify(outputs, null, 2)), structuredContent: { executionId: id, status: view.status, outputs } };
  }
  if (TERMINAL_EXECUTION_STATUSES.includes(view.status)) {
    const why = view.error ? `${view.error.message} (${view.error.code}${view.error.nodeId ? ` at node ${view.error.nodeId}` : ''})` : 'no error was recorded';
    return text(`The run ${id} ended ${view.status}: ${why}`, true);
  }
  const waitingNodes = (view.nodes ?? []).filter((n) => n.status === 'waiting').map((n) => n.nodeId);
  const message =
    view.status === 'waiting'
      ? `The run is waiting for a human decision${waitingNodes.length ? ` (approval at node ${waitingNodes.join(', ')})` : ''} in the Tessera inbox, so it has no outputs yet. Execution id: ${id}. Read its outcome later with GET /api/v1/executions/${id}.`
      : `The run did not finish within ${Math.round(waitMs / 1000)} s and goes on (status ${view.status}). Execution id: ${id}. Read its outcome later with GET /api/v1/executions/${id}.`;
  return { ...text(message), structuredContent: { executionId: id, status: view.status } };
}

/** Runs `workflowId` with `args` as its inputs on behalf of `principal`; refusals come back as error results. */
export async function runWorkflowTool(
  deps: RunToolDeps,
  principal: Principal,
  workflowId: string,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<CallToolResult> {
  if (!hasRole(principal.role, 'editor')) {
    return text(`Running a workflow needs the editor role or higher; this ${principal.kind === 'api_key' ? 'API key' : 'user'} is ${principal.role}.`, true);
  }
  let executionId: string;
  try {
    await deps.countRunStart?.(principal.tenantId);
    const { execution } = await deps.executions.start(principal.tenantId, actorOf(principal).label, workflowId, { inputs: args }, null, { type: 'mcp' });
    executionId = execution.id;
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    const details = err.details === undefined ? '' : `\n${JSON.stringify(err.details)}`;
    return text(`The run was not started: ${err.message} (${err.code})${details}`, true);
  }
  return describeEnd(await waitForEnd(deps, principal.tenantId, executionId, signal), deps.waitMs ?? DEFAULT_MCP_TOOL_WAIT_MS);
}
