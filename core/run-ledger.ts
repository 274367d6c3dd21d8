// The ledger of a run: the rows and events each transition of the run machine records, and the one place
// their idempotency keys are made (a retried write, a replayed workflow or a re-sent batch stores nothing
// twice). Node events carry what a view needs without re-reading the rows: the node's status, attempt,
// handle (null but for a condition or a decided approval), output size and a short preview of its output;
// core/run-view.ts folds them into what a run view shows.
import type { ExecutionStatus, NewExecutionEvent, NodeStatus } from './events';
import { jsonBytes } from './limits';

export interface RunError {
  code: string;
  message: string;
  nodeId?: string;
}

export interface LedgerNodeRow {
  nodeId: string;
  status?: NodeStatus;
  attempts?: number;
  input?: Record<string, unknown> | null;
  output?: unknown;
  error?: RunError | null;
  usage?: { inputTokens: number; outputTokens: number; totalTokens: number } | null;
  startedAt?: string;
  finishedAt?: string;
}

export interface LedgerExecutionRow {
  status?: ExecutionStatus;
  outputs?: Record<string, unknown>;
  error?: RunError | null;
  startedAt?: string;
  finishedAt?: string;
}

/** What one or more transitions record: the shape `recordProgress` and the agent turn write. */
export interface Ledger {
  events: NewExecutionEvent[];
  nodes: LedgerNodeRow[];
  execution?: LedgerExecutionRow;
}

export const PREVIEW_CHARS = 200;
/** Characters of a conversation turn's text its event carries (the node's output holds every turn whole). */
export const CONVERSATION_TURN_EVENT_CHARS = 20_000;

/** Idempotency keys: one per transition (a retry per attempt), the same in every process that writes them. */
export const ledgerKey = {
  executionStarted: () => 'execution:started',
  /** A run ends once: its success, failure, timeout or cancellation share one key. */
  executionEnded: () => 'execution:final',
  nodeStarted: (nodeId: string) => `node:${nodeId}:started`,
  nodeSucceeded: (nodeId: string) => `node:${nodeId}:succeeded`,
  nodeFailed: (nodeId: string) => `node:${nodeId}:failed`,
  nodeSkipped: (nodeId: string) => `node:${nodeId}:skipped`,
  nodeWaiting: (nodeId: string) => `node:${nodeId}:waiting`,
  nodeRetrying: (nodeId: string, attempt: number) => `node:${nodeId}:retrying:${attempt}`,
  /** A tool-using agent's model calls and tool calls, per round (a round's calls have the provider's ids). */
  modelCallSucceeded: (nodeId: string, round: number) => `node:${nodeId}:round:${round}:model`,
  modelCallRetrying: (nodeId: string, round: number, attempt: number) => `node:${nodeId}:round:${round}:retrying:${attempt}`,
  toolCallStarted: (nodeId: string, round: number, callId: string) => `node:${nodeId}:round:${round}:tool:${callId}:started`,
  toolCallEnded: (nodeId: string, round: number, callId: string) => `node:${nodeId}:round:${round}:tool:${callId}:ended`,
  /** A child execution of a subflow node, or of a workflow tool's call: each started once. */
  childStarted: (nodeId: string, call?: { round: number; callId: string }) => (call ? `node:${nodeId}:round:${call.round}:tool:${call.callId}:child` : `node:${nodeId}:child`),
  /** A map node's progress: one event per count of finished items (core/map-run.ts). */
  mapProgress: (nodeId: string, finished: number) => `node:${nodeId}:map:progress:${finished}`,
  /** A conversation's turns: each spoken once, each speaker chosen once, each retried attempt once. */
  conversationTurn: (nodeId: string, round: number) => `node:${nodeId}:turn:${round}`,
  conversationSpeakerSelected: (nodeId: string, round: number) => `node:${nodeId}:turn:${round}:speaker`,
  conversationRetrying: (nodeId: string, round: number, call: 'turn' | 'select', attempt: number) => `node:${nodeId}:turn:${round}:${call}:retrying:${attempt}`,
} as const;

/** A short text of an output for a view: an agent's text, a string as is, anything else as JSON. */
export function outputPreview(output: unknown): string {
  if (output === undefined || output === null) return '';
  const text = typeof output === 'string' ? output : typeof (output as { text?: unknown }).text === 'string' ? (output as { text: string }).text : JSON.stringify(output);
  return text.length > PREVIEW_CHARS ? text.slice(0, PREVIEW_CHARS) : text;
}

function succeededData(output: unknown, attempt: number, handle: string | null): Record<string, unknown> {
  return { status: 'succeeded', attempt, handle, outputBytes: jsonBytes(output ?? null), preview: outputPreview(output) };
}

const nodeOnly = (row: LedgerNodeRow): Ledger => ({ events: [], nodes: [row] });

export const entry = {
  executionStarted: (at: string): Ledger => ({
    events: [{ type: 'execution.started', at, key: ledgerKey.executionStarted() }],
    nodes: [],
    execution: { status: 'running', startedAt: at },
  }),

  /** A trigger, transform, condition or output node, computed in one go. */
  pureSucceeded: (nodeId: string, output: unknown, handle: string | null, startedAt: string, at: string): Ledger => ({
    nodes: [{ nodeId, status: 'succeeded', attempts: 1, output: output ?? null, startedAt, finishedAt: at }],
    events: [
      { type: 'node.started', nodeId, at: startedAt, data: { status: 'running', attempt: 1, handle: null }, key: ledgerKey.nodeStarted(nodeId) },
      { type: 'node.succeeded', nodeId, at, data: succeededData(output, 1, handle), key: ledgerKey.nodeSucceeded(nodeId) },
    ],
  }),

  /** An agent attempt begins: the row says running with this attempt; the first attempt is the node's start. */
  agentRunning: (nodeId: string, texts: { prompt: string; system?: string }, attempt: number, at: string): Ledger => ({
    nodes: [{ nodeId, status: 'running', attempts: attempt, input: { system: texts.system ?? null, prompt: texts.prompt }, ...(attempt === 1 ? { startedAt: at } : {}) }],
    events: attempt === 1 ? [{ type: 'node.started', nodeId, at, data: { status: 'running', attempt, handle: null }, key: ledgerKey.nodeStarted(nodeId) }] : [],
  }),

  nodeRetrying: (nodeId: string, attempt: number, error: string, at: string): Ledger => ({
    nodes: [],
    events: [{ type: 'node.retrying', nodeId, at, data: { status: 'running', attempt, nextAttempt: attempt + 1, handle: null, error }, key: ledgerKey.nodeRetrying(nodeId, attempt) }],
  }),

  agentSucceeded: (nodeId: string, output: unknown, attempt: number, at: string): Ledger => {
    const usage = (output as { usage?: LedgerNodeRow['usage'] }).usage ?? null;
    const text = (output as { text?: unknown }).text;
    return {
      nodes: [{ nodeId, status: 'succeeded', attempts: attempt, output, usage, finishedAt: at }],
      events: [
        {
          type: 'node.succeeded',
          nodeId,
          at,
          data: { ...succeededData(output, attempt, null), usage, textPreview: typeof text === 'string' ? text.slice(0, 500) : '' },
          key: ledgerKey.nodeSucceeded(nodeId),
        },
      ],
    };
  },

  /** A model call of a tool-using agent answered: what it used and which tools it asked for. */
  modelCallSucceeded: (
    nodeId: string,
    call: { round: number; attempt: number; usage: LedgerNodeRow['usage']; model: string; text: string; toolCalls: string[] },
    at: string,
  ): Ledger => ({
    nodes: [],
    events: [
      {
        type: 'model_call.succeeded',
        nodeId,
        at,
        data: { status: 'running', round: call.round, attempt: call.attempt, usage: call.usage, model: call.model, toolCalls: call.toolCalls, preview: outputPreview(call.text) },
        key: ledgerKey.modelCallSucceeded(nodeId, call.round),
      },
    ],
  }),

  /** A model call of round `round` failed and is tried again; the node row shows the attempt in flight. */
  modelCallRetrying: (nodeId: string, round: number, attempt: number, error: string, at: string): Ledger => ({
    nodes: [{ nodeId, attempts: attempt + 1 }],
    events: [
      { type: 'node.retrying', nodeId, at, data: { status: 'running', round, attempt, nextAttempt: attempt + 1, error }, key: ledgerKey.modelCallRetrying(nodeId, round, attempt) },
    ],
  }),

  /** A call begins: it runs, or (`waiting`) waits for a person's approval first. */
  toolCallStarted: (nodeId: string, call: { round: number; id: string; name: string; arguments: unknown }, at: string, callStatus: 'running' | 'waiting' = 'running'): Ledger => ({
    nodes: [],
    events: [
      {
        type: 'tool_call.started',
        nodeId,
        at,
        data: { status: 'running', callStatus, round: call.round, callId: call.id, tool: call.name, arguments: call.arguments },
        key: ledgerKey.toolCallStarted(nodeId, call.round, call.id),
      },
    ],
  }),

  /** A tool call ended: its result (size and preview), or the error the model is told. */
  toolCallEnded: (
    nodeId: string,
    call: { round: number; id: string; name: string; arguments: unknown; result?: unknown; error?: string; durationMs: number },
    at: string,
  ): Ledger => ({
    nodes: [],
    events: [
      {
        type: call.error !== undefined ? 'tool_call.failed' : 'tool_call.succeeded',
        nodeId,
        at,
        data: {
          // `status` is the node's, as on every node event (core/run-view.ts): the agent runs on.
          status: 'running',
          callStatus: call.error !== undefined ? 'failed' : 'succeeded',
          round: call.round,
          callId: call.id,
          tool: call.name,
          arguments: call.arguments,
          durationMs: call.durationMs,
          ...(call.error !== undefined ? { error: call.error } : { outputBytes: jsonBytes(call.result ?? null), preview: outputPreview(call.result) }),
        },
        key: ledgerKey.toolCallEnded(nodeId, call.round, call.id),
      },
    ],
  }),

  /** A conversation's turn was spoken: who, which turn, its text (capped; the output has it whole) and usage. */
  conversationTurn: (
    nodeId: string,
    turn: { round: number; attempt: number; speaker: string; text: string; usage: LedgerNodeRow['usage']; model: string },
    at: string,
  ): Ledger => ({
    nodes: [],
    events: [
      {
        type: 'conversation.turn',
        nodeId,
        at,
        data: {
          status: 'running',
          round: turn.round,
          attempt: turn.attempt,
          speaker: turn.speaker,
          text: turn.text.slice(0, CONVERSATION_TURN_EVENT_CHARS),
          ...(turn.text.length > CONVERSATION_TURN_EVENT_CHARS ? { truncated: true } : {}),
          usage: turn.usage,
          model: turn.model,
        },
        key: ledgerKey.conversationTurn(nodeId, turn.round),
      },
    ],
  }),

  /** A model chose who speaks in turn `round` (`fallback`: it named none of the candidates, the next in order speaks). */
  conversationSpeakerSelected: (
    nodeId: string,
    selection: { round: number; attempt: number; speaker: string; chosenBy: 'model' | 'fallback'; usage: LedgerNodeRow['usage'] },
    at: string,
  ): Ledger => ({
    nodes: [],
    events: [
      { type: 'conversation.speaker_selected', nodeId, at, data: { status: 'running', ...selection }, key: ledgerKey.conversationSpeakerSelected(nodeId, selection.round) },
    ],
  }),

  /** A turn's model call (or the speaker selection) failed and is tried again; the node row shows the attempt in flight. */
  conversationRetrying: (nodeId: string, round: number, call: 'turn' | 'select', attempt: number, error: string, at: string): Ledger => ({
    nodes: [{ nodeId, attempts: attempt + 1 }],
    events: [
      {
        type: 'node.retrying',
        nodeId,
        at,
        // `turn`, not `round`: a view reads a retrying event with a round as a tool-using agent's.
        data: { status: 'running', turn: round, call, attempt, nextAttempt: attempt + 1, error },
        key: ledgerKey.conversationRetrying(nodeId, round, call, attempt),
      },
    ],
  }),

  /** A subflow node starts: the row says running with what its child is asked to do. */
  childRunning: (nodeId: string, input: { workflowId: string; version: number | null; inputs: Record<string, unknown> }, at: string): Ledger => ({
    nodes: [{ nodeId, status: 'running', attempts: 1, input, startedAt: at }],
    events: [{ type: 'node.started', nodeId, at, data: { status: 'running', attempt: 1, handle: null }, key: ledgerKey.nodeStarted(nodeId) }],
  }),

  /** A child execution runs (a subflow node's, or a workflow tool call's): its id, so the run view links to it. */
  childStarted: (nodeId: string, child: { executionId: string; workflowId?: string | undefined }, call: { round: number; callId: string } | undefined, at: string): Ledger => ({
    nodes: [],
    events: [
      {
        type: 'subflow.started',
        nodeId,
        at,
        data: { status: 'running', childExecutionId: child.executionId, ...(child.workflowId ? { childWorkflowId: child.workflowId } : {}), ...(call ? { round: call.round, callId: call.callId } : {}) },
        key: ledgerKey.childStarted(nodeId, call),
      },
    ],
  }),

  /** A subflow node's child succeeded: its outputs are the node's. */
  childSucceeded: (nodeId: string, outputs: Record<string, unknown>, at: string): Ledger => ({
    nodes: [{ nodeId, status: 'succeeded', attempts: 1, output: outputs, finishedAt: at }],
    events: [{ type: 'node.succeeded', nodeId, at, data: succeededData(outputs, 1, null), key: ledgerKey.nodeSucceeded(nodeId) }],
  }),

  /** A map node starts its coordinator: the row says running with the workflow and how many items. */
  mapRunning: (nodeId: string, input: { workflowId: string; version: number | null; total: number }, at: string): Ledger => ({
    nodes: [{ nodeId, status: 'running', attempts: 1, input, startedAt: at }],
    events: [{ type: 'node.started', nodeId, at, data: { status: 'running', attempt: 1, handle: null, total: input.total }, key: ledgerKey.nodeStarted(nodeId) }],
  }),

  /** How far a map has come (written by its coordinator, workflows/map-run.ts, at most every few seconds). */
  mapProgress: (nodeId: string, progress: { done: number; failed: number; total: number }, at: string): Ledger => ({
    nodes: [],
    events: [{ type: 'map.progress', nodeId, at, data: { status: 'running', ...progress }, key: ledgerKey.mapProgress(nodeId, progress.done + progress.failed) }],
  }),

  nodeWaiting: (nodeId: string, at: string): Ledger => ({
    nodes: [{ nodeId, status: 'waiting', attempts: 1, startedAt: at }],
    events: [{ type: 'node.waiting', nodeId, at, data: { status: 'waiting', attempt: 1, handle: null }, key: ledgerKey.nodeWaiting(nodeId) }],
  }),

  approvalSucceeded: (nodeId: string, output: { decision: string }, at: string): Ledger => ({
    nodes: [{ nodeId, status: 'succeeded', output, finishedAt: at }],
    events: [{ type: 'node.succeeded', nodeId, at, data: succeededData(output, 1, output.decision), key: ledgerKey.nodeSucceeded(nodeId) }],
  }),

  /** The error travels as `code` and `error` (its message, a string as it always was): a view reads {code, message}. */
  nodeFailed: (nodeId: string, error: RunError, attempts: number, at: string): Ledger => ({
    nodes: [{ nodeId, status: 'failed', attempts, error: { code: error.code, message: error.message, nodeId }, finishedAt: at }],
    events: [{ type: 'node.failed', nodeId, at, data: { status: 'failed', attempt: attempts, handle: null, error: error.message, code: error.code }, key: ledgerKey.nodeFailed(nodeId) }],
  }),

  /**
   * A node failed and its onError handled it (core/node-failure.ts): it succeeded with `{error}` as its output,
   * taking `handle` (`error` under branch). One `node.succeeded` with `handled: true` and the error's `code` and
   * message (`error`), so a view shows it succeeded-with-an-error; the row keeps the error beside the output.
   */
  failureHandled: (nodeId: string, output: unknown, error: RunError, attempts: number, handle: string | null, at: string): Ledger => ({
    nodes: [{ nodeId, status: 'succeeded', attempts, output, error, finishedAt: at }],
    events: [
      {
        type: 'node.succeeded',
        nodeId,
        at,
        data: { ...succeededData(output, attempts, handle), handled: true, code: error.code, error: error.message },
        key: ledgerKey.nodeSucceeded(nodeId),
      },
    ],
  }),

  nodeSkipped: (nodeId: string, at: string): Ledger => ({
    nodes: [{ nodeId, status: 'skipped' }],
    events: [{ type: 'node.skipped', nodeId, at, data: { status: 'skipped', attempt: 0, handle: null }, key: ledgerKey.nodeSkipped(nodeId) }],
  }),

  /**
   * A retry's node that keeps the old run's result (core/retry-plan.ts): its success or skip as the old run
   * recorded it, with no attempt of its own (attempt 0, no usage) and `reusedFrom` naming that run.
   */
  nodeReused: (nodeId: string, node: { status: 'succeeded' | 'skipped'; output: unknown; handle: string | null }, reusedFrom: string, at: string): Ledger =>
    node.status === 'skipped'
      ? {
          nodes: [{ nodeId, status: 'skipped', attempts: 0 }],
          events: [{ type: 'node.skipped', nodeId, at, data: { status: 'skipped', attempt: 0, handle: null, reusedFrom }, key: ledgerKey.nodeSkipped(nodeId) }],
        }
      : {
          nodes: [{ nodeId, status: 'succeeded', attempts: 0, output: node.output ?? null, startedAt: at, finishedAt: at }],
          events: [{ type: 'node.succeeded', nodeId, at, data: { ...succeededData(node.output, 0, node.handle), reusedFrom }, key: ledgerKey.nodeSucceeded(nodeId) }],
        },

  /** A node stopped by the run's end (a failed sibling, a cancel): a row only, as before issue 10. */
  nodeCancelled: (nodeId: string, at: string): Ledger => nodeOnly({ nodeId, status: 'cancelled', finishedAt: at }),

  executionEnded: (status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out', outputs: Record<string, unknown>, error: RunError | null, at: string): Ledger => ({
    nodes: [],
    events: [
      {
        type: `execution.${status}`,
        at,
        ...(status === 'succeeded' ? { data: { outputs } } : error ? { data: { error } } : {}),
        key: ledgerKey.executionEnded(),
      },
    ],
    execution: { status, outputs, finishedAt: at, ...(error ? { error } : {}) },
  }),
};
