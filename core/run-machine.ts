// The run machine (DESIGN.md §8): the single definition of what a canvas run does. `step(plan, state,
// happening)` answers the next state, the commands to carry out (evaluate texts, call an agent, wait for an
// approval, stop what runs, finish) and the ledger: the node and execution rows and the events to record,
// with their idempotency keys (made only in run-ledger.ts). Pure: no I/O, no clock (every happening brings
// its `at`), so the workflow replays it, the browser folds events with it and the Python runner mirrors it.
// Skips, retries, failure fan-out to siblings, cancellation and approval timeouts are decided here only.
import type { ApprovalContext } from './approval';
import { afterSelection, afterTurn, conversationTexts, startConversation, type ConversationNext, type ConversationProgress, type ConversationTurn } from './conversation';
import { APPROVAL_CONTEXT_NODES_MAX_BYTES } from './approval';
import { EVALUATION_ERROR, nodeEvaluation, type EvaluateNodesInput, type NodeEvaluationRequest, type NodeEvaluationResult } from './evaluation-protocol';
import type { ExecutionStatus, NodeStatus } from './events';
import { jsonBytes } from './limits';
import type { PlanNode, RunPlan } from './plan';
import { failureOutcome } from './node-failure';
import { mapItemsProblem, type MapItemFailureMode, type MapOutput } from './map-run';
import { entry, type Ledger, type RunError } from './run-ledger';
import { holdsParallelPlace, isNodeTerminal, isRunComplete, nextSteps, withinParallelCap } from './scheduler';
import { DEFAULT_MAX_TOOL_ROUNDS, type Tool } from './graph';
import {
  addUsage,
  TOOL_ROUNDS_EXCEEDED,
  needsApproval,
  rejectedCallError,
  toolApprovalKey,
  toolFor,
  toolResultContent,
  type LoopTurn,
  type ModelToolCall,
  type ToolCallRecord,
  type ToolCallRequest,
  type TokenUsage,
} from './tool-loop';

export type { Ledger, RunError } from './run-ledger';

export const DEFAULT_AGENT_ATTEMPTS = 3;
/** Characters of a tool call's arguments an approver is shown (the approval's instructions). */
export const TOOL_APPROVAL_ARGUMENTS_CHARS = 10_000;
/** Temporal's own cap of a retry interval when a node gives none (what the activity retry policy used). */
export const MAX_RETRY_INTERVAL_MS = 120_000;

export interface MachineNodeState {
  status: NodeStatus;
  /** Attempts started (agents count their retries; other nodes 1 once they ran, 0 before or when skipped). */
  attempts: number;
  handle: string | null;
}

export interface RunState {
  status: Extract<ExecutionStatus, 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out'>;
  inputs: Record<string, unknown>;
  nodes: Record<string, MachineNodeState>;
  /** Every node's output by id (the scope texts are evaluated over). */
  nodeOutputs: Record<string, unknown>;
  outputBytes: Record<string, number>;
  /** The run's outputs (output nodes). */
  outputs: Record<string, unknown>;
  /** The rendered texts of agents in flight, so a retry sends the same prompt. */
  agentTexts: Record<string, AgentCall>;
  /** Bytes the run holds, for the evaluation and agent caps (core/limits.ts). */
  used: { run: number; outputs: number };
  /** Agents with tools in their loop: the conversation so far and the round's calls. */
  loops: Record<string, AgentLoop>;
  /** Conversation nodes under way (core/conversation.ts): the transcript so far and the call in flight. */
  conversations: Record<string, ConversationProgress>;
  /** Nodes whose texts are being evaluated (one evaluation at a time keeps the byte budget exact). */
  evaluating: string[];
  /** When the evaluation was asked for: the `startedAt` of the pure nodes it completes. */
  evaluationAt: string | null;
  error: RunError | null;
  /** At most this many agents, conversations, subflows and maps run at once (the run's input); null: no cap. */
  maxParallelNodes: number | null;
}

/** Where a tool-using agent is in its loop (core/tool-loop.ts). */
export interface AgentLoop {
  /** The model call in flight, or whose tool calls run (1-based). */
  round: number;
  /** What every earlier round said and got, for the next model call. */
  turns: LoopTurn[];
  /** Calls of earlier rounds, with their results. */
  toolCalls: ToolCallRecord[];
  /** This round's calls in the model's order; a call without result or error still runs. */
  roundCalls: ToolCallRecord[];
  /** Ids of this round's calls still running (or waiting for their approval). */
  running: string[];
  /** The tools of this round's calls that wait for a person, by call id. */
  awaiting: Record<string, Tool>;
  usage: TokenUsage;
}

/** What a model call of a tool-using agent answered (the provider's result with the tools it asked for). */
export interface ModelAnswer {
  text: string;
  json?: unknown;
  usage: TokenUsage;
  model: string;
  provider: string;
  toolCalls?: ModelToolCall[];
}

export type Happening =
  | { type: 'started'; at: string }
  | { type: 'evaluated'; at: string; results: Record<string, NodeEvaluationResult> }
  | { type: 'nodeSucceeded'; at: string; nodeId: string; output: unknown; attempt: number }
  | {
      type: 'nodeFailed';
      at: string;
      nodeId: string;
      attempt: number;
      code: string;
      message: string;
      /** A failure another attempt may not repeat (a 429, a 5xx, a timeout, a lost worker). */
      retryable: boolean;
      /** The provider's Retry-After, which beats the node's backoff. */
      retryAfterMs?: number;
    }
  | { type: 'approvalDecided'; at: string; nodeId: string; output: { decision: string } }
  /** A model call of a tool-using agent answered: with tool calls the loop goes on, without it the node succeeds. */
  | { type: 'modelAnswered'; at: string; nodeId: string; round: number; attempt: number; answer: ModelAnswer }
  /** A tool call ended (after its own retries): its result, or the error the model is told. */
  /** A person decided a tool call that needed approval: approved, it runs; rejected, the model is told. */
  | { type: 'toolApprovalDecided'; at: string; nodeId: string; round: number; callId: string; decision: 'approved' | 'rejected'; comment: string | null }
  | { type: 'toolDone'; at: string; nodeId: string; round: number; callId: string; result?: unknown; error?: string; durationMs: number }
  /** A conversation's turn `round` was spoken (its failures arrive as nodeFailed and retry as an agent's). */
  | { type: 'turnAnswered'; at: string; nodeId: string; round: number; attempt: number; answer: { text: string; usage: TokenUsage; model: string } }
  /** The model asked who speaks in turn `round` answered (core/conversation.ts reads the name). */
  | { type: 'speakerSelected'; at: string; nodeId: string; round: number; attempt: number; answer: { text: string; usage: TokenUsage } }
  /** An approval with `onTimeout: fail` reached its deadline (the other timeouts decide it: approvalDecided). */
  | { type: 'approvalTimedOut'; at: string; nodeId: string; timeoutSeconds: number }
  | { type: 'cancelRequested'; at: string }
  /** A child execution (a subflow node's, a workflow tool call's) runs: its id goes in the ledger for the run view. */
  | { type: 'childStarted'; at: string; nodeId: string; childExecutionId: string; childWorkflowId?: string; call?: { round: number; callId: string } }
  /** A subflow node's child run ended: its outputs, or why it did not succeed (core/child-run.ts codes). */
  | { type: 'childEnded'; at: string; nodeId: string; outputs?: Record<string, unknown>; error?: { code: string; message: string } }
  /** A map node's coordinator ended (core/map-run.ts): the node's output, or why the map failed. */
  | { type: 'mapEnded'; at: string; nodeId: string; output?: MapOutput; error?: { code: string; message: string } }
  /** Something broke outside any node (the evaluation pool kept failing): the run fails with RUN_ERROR. */
  | { type: 'runFailed'; at: string; message: string };

export interface AgentCall {
  prompt: string;
  system?: string;
}

export type Command =
  | { type: 'evaluate'; input: EvaluateNodesInput }
  /** `delayMs` before the call: a retry's backoff. `runOutputBytes` lets the turn refuse an output over the run's cap. */
  | { type: 'callAgent'; nodeId: string; attempt: number; delayMs: number; texts: AgentCall; runOutputBytes: number }
  /** One model call of a tool-using agent: the texts, and the rounds so far for it to continue. */
  | {
      type: 'callModel';
      nodeId: string;
      round: number;
      attempt: number;
      delayMs: number;
      texts: AgentCall;
      turns: LoopTurn[];
      runOutputBytes: number;
      /** Bytes of the calls so far, which the node's output will hold too. */
      toolCallBytes: number;
    }
  /** One conversation turn: `speaker` speaks after the transcript so far. */
  | { type: 'callTurn'; nodeId: string; round: number; attempt: number; delayMs: number; speaker: string; topic: string; systems: Record<string, string>; transcript: ConversationTurn[]; runOutputBytes: number }
  /** A model chooses who of `candidates` speaks in turn `round` (a conversation under `auto`). */
  | { type: 'selectSpeaker'; nodeId: string; round: number; attempt: number; delayMs: number; candidates: string[]; topic: string; systems: Record<string, string>; transcript: ConversationTurn[] }
  /** One tool call; `scope` is what the tool's templates see besides the arguments. */
  | { type: 'callTool'; nodeId: string; round: number; call: ToolCallRequest; tool: Tool; scope: { inputs: Record<string, unknown>; nodes: Record<string, unknown> } }
  /** A tool call waits for a person, as an approval keyed `approvalKey` (core/tool-loop.ts) showing the tool and its arguments. */
  | { type: 'waitToolApproval'; nodeId: string; round: number; callId: string; approvalKey: string; title: string; instructions: string; context: ApprovalContext }
  | { type: 'waitApproval'; nodeId: string; title: string; instructions: string | null; context: ApprovalContext }
  /** A subflow node's child run: the driver records its row and runs it as a child workflow (workflows/child-run.ts). */
  | { type: 'runChild'; nodeId: string; workflowId: string; version?: number; inputs: Record<string, unknown> }
  /** A map node's items: the driver runs them through one coordinator child workflow (workflows/map-run.ts). */
  | { type: 'runMap'; nodeId: string; items: unknown[]; workflowId: string; version?: number; itemInput: string; concurrency: number; onItemFailure: MapItemFailureMode }
  /** Stop every agent turn and approval in flight (a sibling failed, or the run is cancelled). */
  | { type: 'stopInFlight' }
  | { type: 'finish'; status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out'; outputs: Record<string, unknown>; error: RunError | null };

export interface StepResult {
  state: RunState;
  commands: Command[];
  ledger: Ledger;
}

/** What a run is started with besides its plan and inputs (core/run-protocol.ts CanvasRunInput). */
export interface RunOptions {
  /** RUN_MAX_PARALLEL_NODES when the run started; absent in runs started before the cap, which run as they did. */
  maxParallelNodes?: number;
}

/** The state before `started`. */
export function initialState(plan: RunPlan, inputs: Record<string, unknown>, options: RunOptions = {}): RunState {
  return {
    status: 'running',
    inputs,
    nodes: Object.fromEntries(plan.nodes.map((n) => [n.id, { status: 'pending' as NodeStatus, attempts: 0, handle: null }])),
    nodeOutputs: {},
    outputBytes: {},
    outputs: {},
    agentTexts: {},
    loops: {},
    conversations: {},
    used: { run: 0, outputs: 0 },
    evaluating: [],
    evaluationAt: null,
    error: null,
    maxParallelNodes: options.maxParallelNodes ?? null,
  };
}

export function isFinished(state: RunState): boolean {
  return state.status !== 'running';
}

/** What an in-flight node's attempt number is, for the `state` query and the rows. */
export function attemptsOf(state: RunState, nodeId: string): number {
  return state.nodes[nodeId]?.attempts ?? 0;
}

/** One transition. The input state is not changed. */
export function step(plan: RunPlan, previous: RunState, happening: Happening): StepResult {
  const run = new Transition(plan, copyState(previous), happening.at);
  // Whatever arrives once the run has ended (a cancelled turn reporting back) changes nothing.
  if (isFinished(previous)) return run.result();
  switch (happening.type) {
    case 'started':
      run.ledger.push(entry.executionStarted(happening.at));
      run.reused();
      break;
    case 'evaluated':
      run.evaluated(happening.results);
      break;
    case 'nodeSucceeded':
      if (run.isInFlight(happening.nodeId)) run.agentSucceeded(happening.nodeId, happening.output, happening.attempt);
      break;
    case 'nodeFailed':
      if (run.isInFlight(happening.nodeId)) run.agentFailed(happening);
      break;
    case 'approvalDecided':
      if (run.isInFlight(happening.nodeId)) run.approvalDecided(happening.nodeId, happening.output);
      break;
    case 'modelAnswered':
      if (run.isInFlight(happening.nodeId)) run.modelAnswered(happening);
      break;
    case 'toolDone':
      if (run.isInFlight(happening.nodeId)) run.toolDone(happening);
      break;
    case 'toolApprovalDecided':
      if (run.isInFlight(happening.nodeId)) run.toolApprovalDecided(happening);
      break;
    case 'turnAnswered':
    case 'speakerSelected':
      if (run.isInFlight(happening.nodeId)) run.conversationAnswered(happening);
      break;
    case 'childStarted':
      if (run.isInFlight(happening.nodeId)) run.ledger.push(entry.childStarted(happening.nodeId, { executionId: happening.childExecutionId, workflowId: happening.childWorkflowId }, happening.call, happening.at));
      break;
    case 'childEnded':
      if (run.isInFlight(happening.nodeId)) run.childEnded(happening);
      break;
    case 'mapEnded':
      if (run.isInFlight(happening.nodeId)) run.mapEnded(happening);
      break;
    case 'approvalTimedOut':
      if (run.isInFlight(happening.nodeId)) {
        const { nodeId, timeoutSeconds } = happening;
        run.fail({ nodeId, code: 'APPROVAL_TIMED_OUT', message: `approval ${nodeId} was not decided within ${timeoutSeconds} s` }, 'timed_out');
      }
      break;
    case 'cancelRequested':
      run.end('cancelled');
      break;
    case 'runFailed':
      run.fail({ code: 'RUN_ERROR', message: happening.message });
      break;
  }
  if (!isFinished(run.state)) run.advance();
  return run.result();
}

/** Builds one step's state, commands and ledger; each method is one kind of transition. */
class Transition {
  readonly commands: Command[] = [];
  readonly ledger: Ledger[] = [];
  private readonly nodesById: Map<string, PlanNode>;

  constructor(
    private readonly plan: RunPlan,
    readonly state: RunState,
    private readonly at: string,
  ) {
    this.nodesById = new Map(plan.nodes.map((n) => [n.id, n]));
  }

  result(): StepResult {
    return { state: this.state, commands: this.commands, ledger: mergeLedgers(this.ledger) };
  }

  isInFlight(nodeId: string): boolean {
    const s = this.state.nodes[nodeId]?.status;
    return s === 'running' || s === 'waiting';
  }

  /** Skips what can never run, completes triggers, asks for the texts of ready nodes, or ends the run. */
  advance(): void {
    const s = this.state;
    for (;;) {
      const { ready, skip } = nextSteps(this.plan, s.nodes);
      for (const id of skip) {
        s.nodes[id] = { status: 'skipped', attempts: 0, handle: null };
        this.ledger.push(entry.nodeSkipped(id, this.at));
      }
      const occupied = this.plan.nodes.filter((n) => s.nodes[n.id]?.status === 'running' && holdsParallelPlace(n)).length;
      const toEvaluate = withinParallelCap(this.plan, ready.filter((id) => !s.evaluating.includes(id)), occupied, s.maxParallelNodes ?? null);
      const triggers = toEvaluate.filter((id) => nodeEvaluation(this.node(id)) === null);
      for (const id of triggers) this.pureSucceeded(this.node(id), s.inputs, jsonBytes(s.inputs), this.at);
      if (skip.length || triggers.length) continue;
      if (toEvaluate.length && !s.evaluating.length) {
        s.evaluating = toEvaluate;
        s.evaluationAt = this.at;
        const requests = toEvaluate.map((id) => nodeEvaluation(this.node(id))).filter((r): r is NodeEvaluationRequest => r !== null);
        this.commands.push({
          type: 'evaluate',
          input: { scope: { inputs: s.inputs, nodes: s.nodeOutputs }, nowMs: Date.parse(this.at), nodes: requests, usedBytes: { ...s.used } },
        });
      }
      break;
    }
    if (isRunComplete(this.plan, s.nodes)) {
      this.end('succeeded');
      return;
    }
    const inFlight = this.plan.nodes.some((n) => this.isInFlight(n.id));
    if (!inFlight && !s.evaluating.length && !this.commands.length) {
      this.fail({ code: 'RUN_ERROR', message: 'the run cannot make progress: no node is ready or running' });
    }
  }

  /**
   * A retry's kept nodes (plan.reuse, core/retry-plan.ts) finish at the start with the old run's results: their
   * outputs are in scope and count in the byte budgets as if they had run; they are recorded as reused.
   */
  reused(): void {
    const reuse = this.plan.reuse;
    if (!reuse) return;
    const s = this.state;
    for (const node of this.plan.nodes) {
      const kept = reuse.nodes[node.id];
      if (!kept) continue;
      if (kept.status === 'succeeded') {
        const bytes = jsonBytes(kept.output);
        if (node.type === 'output') {
          s.outputs[node.id] = kept.output;
          s.used.outputs += bytes;
        }
        this.keepOutput(node.id, kept.output, bytes);
      }
      s.nodes[node.id] = { status: kept.status, attempts: 0, handle: kept.handle };
      this.ledger.push(entry.nodeReused(node.id, kept, reuse.from, this.at));
    }
  }

  /** The texts of a wave: pure nodes complete, agents and approvals start, a failed text fails the run. */
  evaluated(results: Record<string, NodeEvaluationResult>): void {
    const s = this.state;
    const wave = s.evaluating;
    const startedAt = s.evaluationAt ?? this.at;
    s.evaluating = [];
    s.evaluationAt = null;
    for (const id of wave) {
      const node = this.node(id);
      const result = results[id];
      if (result?.status === 'deferred') continue; // still pending: asked again in the next evaluation
      if (result?.status === 'failed') {
        const code = result.code === EVALUATION_ERROR ? 'NODE_ERROR' : result.code;
        this.fail({ nodeId: id, code, message: `${node.type} node ${id}: ${result.message}` });
        return;
      }
      const values = result?.values ?? {};
      if (node.type === 'agent') {
        const texts: AgentCall = { prompt: String(values.prompt ?? ''), ...(node.data.system !== undefined ? { system: String(values.system ?? '') } : {}) };
        if (node.data.tools?.length) this.startLoop(node, texts);
        else this.startAgent(node, texts, 1, 0);
      } else if (node.type === 'conversation') {
        const { progress, next } = startConversation(node.data, conversationTexts(node.data, values));
        s.nodes[id] = { status: 'running', attempts: 1, handle: null };
        this.ledger.push(entry.agentRunning(id, { prompt: progress.texts.topic }, 1, this.at));
        this.conversationStep(node, progress, next, 1, 0);
      } else if (node.type === 'approval') {
        s.nodes[id] = { status: 'waiting', attempts: 1, handle: null };
        this.ledger.push(entry.nodeWaiting(id, this.at));
        this.commands.push({
          type: 'waitApproval',
          nodeId: id,
          title: String(values.title ?? ''),
          instructions: node.data.instructions !== undefined ? String(values.instructions ?? '') : null,
          context: this.approvalContext(),
        });
      } else if (node.type === 'subflow') {
        this.startChild(node, values);
      } else if (node.type === 'map') {
        this.startMap(node, values.items);
      } else {
        this.pureSucceeded(node, values.value, result?.bytes, startedAt);
      }
    }
  }

  agentSucceeded(nodeId: string, output: unknown, attempt: number): void {
    const s = this.state;
    this.keepOutput(nodeId, output, jsonBytes(output));
    s.nodes[nodeId] = { status: 'succeeded', attempts: attempt, handle: null };
    this.ledger.push(entry.agentSucceeded(nodeId, output, attempt, this.at));
  }

  /** A retryable failure with attempts left is retried after the node's backoff; any other fails the run. */
  agentFailed(h: Extract<Happening, { type: 'nodeFailed' }>): void {
    const node = this.node(h.nodeId);
    if (node.type !== 'agent' && node.type !== 'conversation') return;
    const retry = node.data.retry;
    const maximumAttempts = retry?.maximumAttempts ?? DEFAULT_AGENT_ATTEMPTS;
    if (h.retryable && h.attempt < maximumAttempts) {
      const initialMs = (retry?.initialIntervalSeconds ?? 1) * 1000;
      const backoff = Math.min(initialMs * (retry?.backoffCoefficient ?? 2) ** (h.attempt - 1), MAX_RETRY_INTERVAL_MS);
      const delayMs = h.retryAfterMs ?? backoff;
      const conversation = this.state.conversations[h.nodeId];
      if (node.type === 'conversation') {
        if (!conversation) return;
        const next: ConversationNext = conversation.speaker !== null ? { kind: 'turn', speaker: conversation.speaker } : { kind: 'select', candidates: conversation.candidates };
        this.ledger.push(entry.conversationRetrying(h.nodeId, conversation.round, next.kind === 'turn' ? 'turn' : 'select', h.attempt, h.message, this.at));
        this.conversationStep(node, conversation, next, h.attempt + 1, delayMs);
        return;
      }
      const loop = this.state.loops[h.nodeId];
      if (loop) {
        this.ledger.push(entry.modelCallRetrying(h.nodeId, loop.round, h.attempt, h.message, this.at));
        this.callModel(node, h.attempt + 1, delayMs);
        return;
      }
      this.ledger.push(entry.nodeRetrying(h.nodeId, h.attempt, h.message, this.at));
      this.startAgent(node, this.state.agentTexts[h.nodeId] ?? { prompt: '' }, h.attempt + 1, delayMs);
      return;
    }
    this.state.nodes[h.nodeId] = { ...this.state.nodes[h.nodeId]!, attempts: h.attempt };
    this.nodeFailed({ nodeId: h.nodeId, code: h.code, message: h.message });
  }

  /**
   * A fallible node failed for good. By its onError (core/node-failure.ts) the run fails, or the node succeeds
   * with `{error: {code, message}}` (taking `error` under branch) and its siblings run on.
   */
  nodeFailed(error: RunError & { nodeId: string }): void {
    const outcome = failureOutcome(this.node(error.nodeId), error);
    if (outcome.kind === 'fail') {
      this.fail(error);
      return;
    }
    const attempts = Math.max(this.state.nodes[error.nodeId]?.attempts ?? 0, 1);
    this.state.loops = withoutKey(this.state.loops, error.nodeId);
    this.state.conversations = withoutKey(this.state.conversations, error.nodeId);
    this.keepOutput(error.nodeId, outcome.output, jsonBytes(outcome.output));
    this.state.nodes[error.nodeId] = { status: 'succeeded', attempts, handle: outcome.handle };
    this.ledger.push(entry.failureHandled(error.nodeId, outcome.output, { code: error.code, message: error.message, nodeId: error.nodeId }, attempts, outcome.handle, this.at));
  }

  /**
   * A model call answered. Without tool calls the node succeeds with the whole loop's output; with them the
   * round's calls start (all at once), except those the agent cannot make, which are answered at once with
   * their error; a model still asking after `maxToolRounds` rounds fails the node.
   */
  modelAnswered(h: Extract<Happening, { type: 'modelAnswered' }>): void {
    const node = this.node(h.nodeId);
    const loop = this.state.loops[h.nodeId];
    if (node.type !== 'agent' || !loop || loop.round !== h.round || loop.running.length) return;
    const { answer } = h;
    const usage = addUsage(loop.usage, answer.usage);
    const calls = answer.toolCalls ?? [];
    this.ledger.push(
      entry.modelCallSucceeded(h.nodeId, { round: h.round, attempt: h.attempt, usage: answer.usage, model: answer.model, text: answer.text, toolCalls: calls.map((c) => c.name) }, this.at),
    );
    if (!calls.length) {
      const output = {
        text: answer.text,
        ...(answer.json !== undefined ? { json: answer.json } : {}),
        usage,
        model: answer.model,
        provider: answer.provider,
        rounds: h.round,
        toolCalls: loop.toolCalls,
      };
      this.state.loops = withoutKey(this.state.loops, h.nodeId);
      this.agentSucceeded(h.nodeId, output, h.attempt);
      return;
    }
    const maxRounds = node.data.maxToolRounds ?? DEFAULT_MAX_TOOL_ROUNDS;
    if (h.round > maxRounds) {
      this.state.nodes[h.nodeId] = { ...this.state.nodes[h.nodeId]!, attempts: h.attempt };
      this.nodeFailed({
        nodeId: h.nodeId,
        code: TOOL_ROUNDS_EXCEEDED,
        message: `agent ${h.nodeId} still asked for tools (${calls.map((c) => c.name).join(', ')}) after ${maxRounds} tool round${maxRounds === 1 ? '' : 's'} (maxToolRounds)`,
      });
      return;
    }
    const requests = calls.map(({ id, name, arguments: args }): ToolCallRequest => ({ id, name, arguments: args }));
    const next: AgentLoop = { ...loop, usage, turns: [...loop.turns, { role: 'assistant', text: answer.text, toolCalls: requests }], roundCalls: [], running: [], awaiting: {} };
    const tools = node.data.tools ?? [];
    const scope = { inputs: this.state.inputs, nodes: this.state.nodeOutputs };
    for (const call of calls) {
      const request: ToolCallRequest = { id: call.id, name: call.name, arguments: call.arguments };
      const tool = toolFor(tools, call);
      const refusal = !tool ? `there is no tool named "${call.name}"` : call.argumentError !== undefined ? `invalid arguments: ${call.argumentError}` : null;
      const waits = refusal === null && needsApproval(node.data.toolApproval, call.name);
      this.ledger.push(entry.toolCallStarted(h.nodeId, { round: h.round, ...request }, this.at, waits ? 'waiting' : 'running'));
      if (refusal !== null || !tool) {
        const record = { ...request, error: refusal ?? 'refused' };
        next.roundCalls.push(record);
        this.ledger.push(entry.toolCallEnded(h.nodeId, { round: h.round, ...record, durationMs: 0 }, this.at));
        continue;
      }
      next.roundCalls.push(request);
      next.running.push(call.id);
      if (waits) {
        next.awaiting[call.id] = tool;
        this.commands.push(this.toolApproval(h.nodeId, h.round, request));
        continue;
      }
      this.commands.push({ type: 'callTool', nodeId: h.nodeId, round: h.round, call: request, tool, scope });
    }
    this.state.loops = { ...this.state.loops, [h.nodeId]: next };
    this.state.nodes[h.nodeId] = { ...this.state.nodes[h.nodeId]!, attempts: h.attempt };
    if (!next.running.length) this.closeRound(node);
  }

  /** A tool call ended; when it was the round's last, the model is called with every result. */
  toolDone(h: Extract<Happening, { type: 'toolDone' }>): void {
    const node = this.node(h.nodeId);
    const loop = this.state.loops[h.nodeId];
    if (node.type !== 'agent' || !loop || loop.round !== h.round || !loop.running.includes(h.callId)) return;
    const index = loop.roundCalls.findIndex((c) => c.id === h.callId && c.result === undefined && c.error === undefined);
    const call = loop.roundCalls[index];
    if (!call) return;
    const record: ToolCallRecord = { ...call, ...(h.error !== undefined ? { error: h.error } : { result: h.result ?? null }) };
    const roundCalls = loop.roundCalls.map((c, i) => (i === index ? record : c));
    this.state.loops = { ...this.state.loops, [h.nodeId]: { ...loop, roundCalls, running: loop.running.filter((id) => id !== h.callId) } };
    this.ledger.push(entry.toolCallEnded(h.nodeId, { round: h.round, ...record, durationMs: h.durationMs }, this.at));
    if (!this.state.loops[h.nodeId]!.running.length) this.closeRound(node);
  }

  /** Approved, the call runs now; rejected, the model gets the refusal as the call's error. */
  toolApprovalDecided(h: Extract<Happening, { type: 'toolApprovalDecided' }>): void {
    const loop = this.state.loops[h.nodeId];
    const tool = loop?.round === h.round ? loop.awaiting[h.callId] : undefined;
    const call = loop?.roundCalls.find((c) => c.id === h.callId);
    if (!loop || !tool || !call) return;
    this.state.loops = { ...this.state.loops, [h.nodeId]: { ...loop, awaiting: withoutKey(loop.awaiting, h.callId) } };
    if (h.decision === 'rejected') {
      this.toolDone({ type: 'toolDone', at: h.at, nodeId: h.nodeId, round: h.round, callId: h.callId, error: rejectedCallError(h.comment), durationMs: 0 });
      return;
    }
    const request: ToolCallRequest = { id: call.id, name: call.name, arguments: call.arguments };
    this.commands.push({ type: 'callTool', nodeId: h.nodeId, round: h.round, call: request, tool, scope: { inputs: this.state.inputs, nodes: this.state.nodeOutputs } });
  }

  /** A conversation's turn was spoken, or its next speaker chosen: the next turn, selection, or the node's end. */
  conversationAnswered(h: Extract<Happening, { type: 'turnAnswered' | 'speakerSelected' }>): void {
    const node = this.node(h.nodeId);
    const progress = this.state.conversations[h.nodeId];
    if (node.type !== 'conversation' || !progress || progress.round !== h.round) return;
    if (h.type === 'speakerSelected') {
      if (progress.speaker !== null) return;
      const chosen = afterSelection(progress, h.answer);
      this.ledger.push(entry.conversationSpeakerSelected(h.nodeId, { round: h.round, attempt: h.attempt, speaker: chosen.speaker, chosenBy: chosen.chosenBy, usage: h.answer.usage }, this.at));
      this.conversationStep(node, chosen.progress, { kind: 'turn', speaker: chosen.speaker }, 1, 0);
      return;
    }
    if (progress.speaker === null) return;
    const { answer } = h;
    this.ledger.push(entry.conversationTurn(h.nodeId, { round: h.round, attempt: h.attempt, speaker: progress.speaker, text: answer.text, usage: answer.usage, model: answer.model }, this.at));
    const { progress: spoken, next } = afterTurn(node.data, progress, answer);
    this.conversationStep(node, spoken, next, 1, 0, h.attempt);
  }

  /** A subflow node runs its child with the rendered inputs (the driver records the child's row, then runs it). */
  startChild(node: Extract<PlanNode, { type: 'subflow' }>, inputs: Record<string, unknown>): void {
    const { workflowId, version } = node.data;
    this.state.nodes[node.id] = { status: 'running', attempts: 1, handle: null };
    this.ledger.push(entry.childRunning(node.id, { workflowId, version: version ?? null, inputs }, this.at));
    this.commands.push({ type: 'runChild', nodeId: node.id, workflowId, ...(version !== undefined ? { version } : {}), inputs });
  }

  /** The child's outputs are the node's output; a child that did not succeed fails the node (its onError decides what that does). */
  childEnded(h: Extract<Happening, { type: 'childEnded' }>): void {
    if (h.error || !h.outputs) {
      this.nodeFailed({ nodeId: h.nodeId, code: h.error?.code ?? 'SUBFLOW_FAILED', message: h.error?.message ?? `the child run of ${h.nodeId} gave no outputs` });
      return;
    }
    this.keepOutput(h.nodeId, h.outputs, jsonBytes(h.outputs));
    this.state.nodes[h.nodeId] = { status: 'succeeded', attempts: 1, handle: null };
    this.ledger.push(entry.childSucceeded(h.nodeId, h.outputs, this.at));
  }

  /** A map node's list starts its coordinator; a value that is not a list fails the node (where onError goes). */
  startMap(node: Extract<PlanNode, { type: 'map' }>, items: unknown): void {
    const problem = mapItemsProblem(items, Number.POSITIVE_INFINITY);
    if (problem || !Array.isArray(items)) {
      this.nodeFailed({ nodeId: node.id, code: problem?.code ?? 'NODE_ERROR', message: `map node ${node.id}: ${problem?.message ?? 'no items'}` });
      return;
    }
    const { workflowId, version, itemInput, concurrency, onItemFailure } = node.data;
    this.state.nodes[node.id] = { status: 'running', attempts: 1, handle: null };
    this.ledger.push(entry.mapRunning(node.id, { workflowId, version: version ?? null, total: items.length }, this.at));
    this.commands.push({ type: 'runMap', nodeId: node.id, items, workflowId, ...(version !== undefined ? { version } : {}), itemInput, concurrency, onItemFailure });
  }

  /** The coordinator's output is the node's; a map that failed goes where the node's onError says. */
  mapEnded(h: Extract<Happening, { type: 'mapEnded' }>): void {
    if (h.error || !h.output) {
      this.nodeFailed({ nodeId: h.nodeId, code: h.error?.code ?? 'MAP_FAILED', message: h.error?.message ?? `the map ${h.nodeId} gave no output` });
      return;
    }
    const output = { ...h.output };
    this.keepOutput(h.nodeId, output, jsonBytes(output));
    this.state.nodes[h.nodeId] = { status: 'succeeded', attempts: 1, handle: null };
    this.ledger.push(entry.childSucceeded(h.nodeId, output, this.at));
  }

  approvalDecided(nodeId: string, output: { decision: string }): void {
    this.keepOutput(nodeId, output, jsonBytes(output));
    this.state.nodes[nodeId] = { status: 'succeeded', attempts: 1, handle: output.decision };
    this.ledger.push(entry.approvalSucceeded(nodeId, output, this.at));
  }

  /** The run fails: the node that failed is recorded, every other unfinished node is cancelled (fan-out). */
  fail(error: RunError, status: 'failed' | 'timed_out' = 'failed'): void {
    const s = this.state;
    s.error = error;
    if (error.nodeId) {
      const attempts = Math.max(s.nodes[error.nodeId]?.attempts ?? 0, 1);
      s.nodes[error.nodeId] = { status: 'failed', attempts, handle: null };
      this.ledger.push(entry.nodeFailed(error.nodeId, error, attempts, this.at));
    }
    this.end(status);
  }

  /** Ends the run: unfinished nodes are cancelled, what runs is stopped, and the end is recorded. */
  end(status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out'): void {
    const s = this.state;
    const stopping = this.plan.nodes.some((n) => this.isInFlight(n.id));
    for (const n of this.plan.nodes) {
      const ns = s.nodes[n.id]!;
      if (!isNodeTerminal(ns)) {
        s.nodes[n.id] = { ...ns, status: 'cancelled' };
        this.ledger.push(entry.nodeCancelled(n.id, this.at));
      }
    }
    s.status = status;
    s.evaluating = [];
    this.commands.length = 0;
    if (stopping) this.commands.push({ type: 'stopInFlight' });
    this.ledger.push(entry.executionEnded(status, s.outputs, s.error, this.at));
    this.commands.push({ type: 'finish', status, outputs: s.outputs, error: s.error });
  }

  private startAgent(node: Extract<PlanNode, { type: 'agent' }>, texts: AgentCall, attempt: number, delayMs: number): void {
    const s = this.state;
    s.nodes[node.id] = { status: 'running', attempts: attempt, handle: null };
    s.agentTexts[node.id] = texts;
    this.ledger.push(entry.agentRunning(node.id, texts, attempt, this.at));
    this.commands.push({ type: 'callAgent', nodeId: node.id, attempt, delayMs, texts, runOutputBytes: s.used.run });
  }

  /** The first model call of a tool-using agent: the node starts as any agent does. */
  private startLoop(node: Extract<PlanNode, { type: 'agent' }>, texts: AgentCall): void {
    const s = this.state;
    s.nodes[node.id] = { status: 'running', attempts: 1, handle: null };
    s.agentTexts[node.id] = texts;
    s.loops = { ...s.loops, [node.id]: { round: 1, turns: [], toolCalls: [], roundCalls: [], running: [], awaiting: {}, usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } } };
    this.ledger.push(entry.agentRunning(node.id, texts, 1, this.at));
    this.callModel(node, 1, 0);
  }

  /** The round's results go to the model: the next round's first model call. */
  private closeRound(node: Extract<PlanNode, { type: 'agent' }>): void {
    const loop = this.state.loops[node.id]!;
    const results = loop.roundCalls.map((c) => ({ id: c.id, name: c.name, content: toolResultContent(c), isError: c.error !== undefined }));
    this.state.loops = {
      ...this.state.loops,
      [node.id]: { ...loop, round: loop.round + 1, turns: [...loop.turns, { role: 'tool', results }], toolCalls: [...loop.toolCalls, ...loop.roundCalls], roundCalls: [], running: [], awaiting: {} },
    };
    this.state.nodes[node.id] = { ...this.state.nodes[node.id]!, attempts: 1 };
    this.callModel(node, 1, 0);
  }

  private callModel(node: Extract<PlanNode, { type: 'agent' }>, attempt: number, delayMs: number): void {
    const s = this.state;
    const loop = s.loops[node.id]!;
    s.nodes[node.id] = { ...s.nodes[node.id]!, status: 'running', attempts: attempt };
    this.commands.push({
      type: 'callModel',
      nodeId: node.id,
      round: loop.round,
      attempt,
      delayMs,
      texts: s.agentTexts[node.id] ?? { prompt: '' },
      turns: loop.turns,
      runOutputBytes: s.used.run,
      toolCallBytes: jsonBytes(loop.toolCalls),
    });
  }

  /** Carries out what the conversation says comes next: a turn, a speaker selection (attempt `attempt`), or the node's success. */
  private conversationStep(node: Extract<PlanNode, { type: 'conversation' }>, progress: ConversationProgress, next: ConversationNext, attempt: number, delayMs: number, lastAttempt = attempt): void {
    const s = this.state;
    if (next.kind === 'done') {
      s.conversations = withoutKey(s.conversations, node.id);
      this.agentSucceeded(node.id, next.output, lastAttempt);
      return;
    }
    s.conversations = { ...s.conversations, [node.id]: progress };
    s.nodes[node.id] = { ...s.nodes[node.id]!, status: 'running', attempts: attempt };
    const { round, transcript, texts } = progress;
    const common = { nodeId: node.id, round, attempt, delayMs, topic: texts.topic, systems: texts.systems, transcript };
    this.commands.push(next.kind === 'turn' ? { type: 'callTurn', ...common, speaker: next.speaker, runOutputBytes: s.used.run } : { type: 'selectSpeaker', ...common, candidates: next.candidates });
  }

  private pureSucceeded(node: PlanNode, value: unknown, bytes: number | undefined, startedAt: string): void {
    const s = this.state;
    let output = value;
    let handle: string | null = null;
    if (node.type === 'condition') {
      handle = value ? 'true' : 'false';
      output = { result: Boolean(value) };
      bytes = undefined;
    }
    if (node.type === 'output') {
      s.outputs[node.id] = output;
      s.used.outputs += bytes ?? jsonBytes(output);
    }
    this.keepOutput(node.id, output, bytes ?? jsonBytes(output));
    s.nodes[node.id] = { status: 'succeeded', attempts: 1, handle };
    this.ledger.push(entry.pureSucceeded(node.id, output, handle, startedAt, this.at));
  }

  private keepOutput(nodeId: string, output: unknown, bytes: number): void {
    const s = this.state;
    delete s.agentTexts[nodeId];
    s.nodeOutputs[nodeId] = output;
    s.outputBytes[nodeId] = bytes;
    s.used.run += bytes;
  }

  /** A tool call's approval: its title and instructions name the agent, the tool and the arguments. */
  private toolApproval(nodeId: string, round: number, call: ToolCallRequest): Extract<Command, { type: 'waitToolApproval' }> {
    const args = JSON.stringify(call.arguments ?? {});
    const shown = args.length > TOOL_APPROVAL_ARGUMENTS_CHARS ? `${args.slice(0, TOOL_APPROVAL_ARGUMENTS_CHARS)}…` : args;
    return {
      type: 'waitToolApproval',
      nodeId,
      round,
      callId: call.id,
      approvalKey: toolApprovalKey(nodeId, round, call.id),
      title: `Agent ${nodeId} asks to call ${call.name}`.slice(0, 500),
      instructions: `Tool: ${call.name}\nArguments: ${shown}\nApprove to run it; a rejection (with your comment) goes back to the agent as the tool's answer.`,
      context: this.approvalContext(),
    };
  }

  /** The run as an approver sees it: its inputs and as many node outputs as fit the approval record. */
  private approvalContext(): ApprovalContext {
    const s = this.state;
    const nodes: Record<string, unknown> = {};
    const omittedNodes: string[] = [];
    let bytes = 0;
    for (const [nodeId, output] of Object.entries(s.nodeOutputs)) {
      bytes += s.outputBytes[nodeId] ?? 0;
      if (bytes <= APPROVAL_CONTEXT_NODES_MAX_BYTES) nodes[nodeId] = output;
      else omittedNodes.push(nodeId);
    }
    return { inputs: s.inputs, nodes, ...(omittedNodes.length ? { omittedNodes } : {}) };
  }

  private node(id: string): PlanNode {
    const node = this.nodesById.get(id);
    if (!node) throw new Error(`node ${id} is not in the plan`);
    return node;
  }
}

/** A copy a step may change: every map is copied (values are replaced, never changed in place). */
function copyState(s: RunState): RunState {
  return {
    ...s,
    nodes: { ...s.nodes },
    nodeOutputs: { ...s.nodeOutputs },
    outputBytes: { ...s.outputBytes },
    outputs: { ...s.outputs },
    agentTexts: { ...s.agentTexts },
    loops: { ...s.loops },
    conversations: { ...s.conversations },
    used: { ...s.used },
    evaluating: [...s.evaluating],
  };
}

function withoutKey<T>(record: Record<string, T>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}

/** One ledger of several, in order: events and rows appended, the execution row's fields the latest. */
export function mergeLedgers(parts: Ledger[]): Ledger {
  const merged: Ledger = { events: [], nodes: [] };
  for (const p of parts) {
    merged.events.push(...p.events);
    merged.nodes.push(...p.nodes);
    if (p.execution) merged.execution = { ...merged.execution, ...p.execution };
  }
  return merged;
}
