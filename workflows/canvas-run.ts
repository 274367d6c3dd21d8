// The `canvasRun` workflow: drives the run machine (core/run-machine.ts) over a compiled plan. The machine
// decides everything (what runs next, skips, retries, failure fan-out, cancellation, approval timeouts) and
// what to record; this file only carries out its commands and feeds back what happened:
//   evaluate    → a wave of inline templates is rendered here; any other wave's texts go to one local
//                 activity that evaluates them in the worker's bounded evaluators
//   callAgent   → one `runAgentTurn` activity, which first records the ledger still pending
//   callModel   → the same, for one model call of a tool-using agent (with the rounds so far)
//   callTool    → one `callTool` activity per tool call, several at once when the model asked for several
//   waitApproval → a durable wait (approval-desk.ts), opened with the ledger still pending
//   finish      → stop what runs, record the end in the step that completes the run, return
// Progress nobody carries is written by a local activity only when the run would otherwise wait on the
// outside world, so no progress write is ever a sequential round trip before an agent turn.
import {
  ApplicationFailure,
  ActivityCancellationType,
  CancellationScope,
  condition,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { AgentTurnInput, TesseraActivities } from '../activities';
import { rootCauseMessage } from '../core/error-cause';
import type { EvaluateNodesInput, EvaluateNodesOutput } from '../core/evaluation-protocol';
import { evaluateWaveInline } from '../core/inline-evaluation';
import { OUTPUT_TOO_LARGE, jsonBytes } from '../core/limits';
import type { PlanNode } from '../core/plan';
import { initialState, mergeLedgers, step, DEFAULT_AGENT_ATTEMPTS, type Command, type Happening, type Ledger, type RunState } from '../core/run-machine';
import { mcpServersOf, toolSpecs, workflowToolsOf } from '../core/tool-loop';
import { STATE_QUERY, type CanvasRunInput, type CanvasRunResult, type RunStateView } from '../core/run-protocol';
import { ApprovalDesk } from './approval-desk';
import { NodeFailed } from './node-failed';
import type { WorkflowTool } from '../core/graph';
import { SUBFLOW_FAILED } from '../core/child-run';
import { runChildExecution } from './child-run';
import { runMapNode } from './map-run';
import { PROGRESS_BATCH_BYTES, ProgressBuffer, type ApprovalUpdate } from './progress-buffer';

export const stateQuery = defineQuery<RunStateView>(STATE_QUERY);

/** Histories without this marker began under the interpreter of 51439c9 and finish under it. */
export const RUN_MACHINE_PATCH = 'run-machine';

/** Histories without this marker evaluated every wave in the `evaluateNodes` local activity. */
export const INLINE_EVALUATION_PATCH = 'inline-evaluation';

// Progress writes retry without an attempt limit (a database restart must not fail runs), bounded in time.
const { recordProgress } = proxyLocalActivities<TesseraActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
});

// One wave's texts, bounded per text by EXPRESSION_TIMEOUT_MS (a limit reached is a per-node result); only a
// failure of the pool itself fails the activity, and that is worth retrying.
const { evaluateNodes } = proxyLocalActivities<TesseraActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
});

/** One attempt per activity: the run machine retries, so it knows every attempt. */
function agentActivity(node: Extract<PlanNode, { type: 'agent' }>) {
  const turnSeconds = Math.max(node.data.timeoutSeconds ?? 300, Math.ceil((node.data.delayMs ?? 0) / 1000) + 60);
  return proxyActivities<TesseraActivities>({
    startToCloseTimeout: `${turnSeconds} seconds`,
    heartbeatTimeout: '10 seconds',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 1 },
  }).runAgentTurn;
}

/** A conversation's turn and speaker selection: one attempt per activity, as an agent's (the machine retries). */
function conversationActivities(node: Extract<PlanNode, { type: 'conversation' }>) {
  return proxyActivities<TesseraActivities>({
    startToCloseTimeout: `${node.data.timeoutSeconds ?? 300} seconds`,
    heartbeatTimeout: '10 seconds',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 1 },
  });
}

// One tool call: its own retries (a lost worker, a connection reset), bounded in time; a call that still fails
// goes back to the model as the tool's error, so the machine never retries it itself.
const { callTool } = proxyActivities<TesseraActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 3 },
});

export async function canvasRun(input: CanvasRunInput): Promise<CanvasRunResult> {
  if (!patched(RUN_MACHINE_PATCH)) {
    // Loaded only for the old histories that need it: its expression and template engines would otherwise be
    // set up in every new run's first workflow task.
    const { legacyCanvasRun } = await import(/* webpackMode: "eager" */ './legacy/canvas-run-51439c9.js');
    return legacyCanvasRun(input);
  }
  return new RunDriver(input).run();
}

class RunDriver {
  private state: RunState;
  private readonly nodes: Map<string, PlanNode>;
  /** What happened and is not fed to the machine yet, in order. */
  private readonly inbox: Happening[] = [];
  /** The machine's ledger nobody has recorded yet, oldest first. */
  private pending: Ledger[] = [];
  /** Background progress writes, one after another so rows change in the order the machine decided. */
  private writes: Promise<void> = Promise.resolve();
  /** Agent turns and approvals in flight, in a scope of their own so a failed sibling can stop them. */
  private readonly turns = new CancellationScope();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly desk: ApprovalDesk;
  private end: Extract<Command, { type: 'finish' }> | null = null;
  private cancelled: unknown = null;

  constructor(private readonly input: CanvasRunInput) {
    this.state = initialState(input.plan, input.inputs, input.maxParallelNodes !== undefined ? { maxParallelNodes: input.maxParallelNodes } : {});
    this.nodes = new Map(input.plan.nodes.map((n) => [n.id, n]));
    const { tenantId, executionId } = input;
    // An approval's writes are small (its context is capped) and never lost to a cancel half-way.
    this.desk = new ApprovalDesk((batch) => CancellationScope.nonCancellable(() => recordProgress({ tenantId, executionId, ...batch })), input.plan.workflowId);
    setHandler(stateQuery, () => ({
      status: this.state.status === 'running' && this.desk.pendingCount() ? 'waiting' : this.state.status,
      nodes: Object.fromEntries(Object.entries(this.state.nodes).map(([id, s]) => [id, { status: s.status, attempts: s.attempts, handle: s.handle }])),
      outputs: this.state.outputs,
      approvals: this.desk.view(),
    }));
  }

  async run(): Promise<CanvasRunResult> {
    try {
      this.feed({ type: 'started', at: now() });
      while (!this.end) {
        await condition(() => this.inbox.length > 0);
        this.feed(this.inbox.shift()!);
      }
    } catch (err) {
      if (!isCancellation(err)) throw err;
      this.cancelled = err;
      this.feed({ type: 'cancelRequested', at: now() });
    }
    return this.finish();
  }

  /** One step of the machine: keep its state and ledger, carry out its commands. */
  private feed(happening: Happening): void {
    const { state, commands, ledger } = step(this.input.plan, this.state, happening);
    this.state = state;
    if (ledger.events.length || ledger.nodes.length || ledger.execution) this.pending.push(ledger);
    // The pending ledger rides with the first turn or approval this step opens (an approval first: its write
    // also sets the run `waiting`); a step that opens neither and evaluates nothing waits on the outside
    // world, so what it has to say is written now, in the background.
    const carrier =
      commands.find((c) => c.type === 'waitApproval') ??
      commands.find((c) => c.type === 'callAgent' || c.type === 'callModel' || c.type === 'callTurn' || c.type === 'selectSpeaker');
    let carry: Ledger = { events: [], nodes: [] };
    if (carrier && this.pendingBytes() < PROGRESS_BATCH_BYTES) carry = this.takePending();
    for (const command of commands) this.execute(command, command === carrier ? carry : { events: [], nodes: [] });
    const evaluating = commands.some((c) => c.type === 'evaluate');
    if (!this.end && this.pending.length && (!evaluating || this.pendingBytes() >= PROGRESS_BATCH_BYTES)) {
      const batch = this.takePending();
      this.writes = this.writes.then(() => this.record(batch));
    }
  }

  private execute(command: Command, carry: Ledger): void {
    switch (command.type) {
      case 'evaluate': {
        const inline = this.evaluateInline(command.input);
        if (inline) {
          this.inbox.push({ type: 'evaluated', at: now(), results: inline.results });
          return;
        }
        evaluateNodes(command.input).then(
          ({ results }) => this.inbox.push({ type: 'evaluated', at: now(), results }),
          (err: unknown) => {
            if (!isCancellation(err)) this.inbox.push(runFailed(err));
          },
        );
        return;
      }
      case 'callAgent':
        return this.track(this.callAgent(command, carry));
      case 'callModel':
        return this.track(this.callModel(command, carry));
      case 'callTurn':
      case 'selectSpeaker':
        return this.track(this.callConversation(command, carry));
      case 'callTool':
        return this.track(this.callTool(command));
      case 'waitToolApproval':
        return this.track(this.waitToolApproval(command));
      case 'waitApproval':
        return this.track(this.waitApproval(command, carry));
      case 'runChild':
        return this.track(this.runSubflow(command));
      case 'runMap':
        return this.track(this.runMap(command));
      case 'stopInFlight':
        this.turns.cancel();
        return;
      case 'finish':
        this.end = command;
        return;
    }
  }

  /**
   * The wave's results when all its texts are inline templates (core/inline-evaluation.ts), rendered under the
   * caps recorded in the plan; null for any other wave, for a plan without caps and for a history begun before
   * the patch (it evaluated every wave in the local activity and replays so).
   */
  private evaluateInline(input: EvaluateNodesInput): EvaluateNodesOutput | null {
    const limits = this.input.plan.limits;
    const output = limits ? evaluateWaveInline(input, limits) : null;
    return output && patched(INLINE_EVALUATION_PATCH) ? output : null;
  }

  private async callAgent(command: Extract<Command, { type: 'callAgent' }>, carry: Ledger): Promise<void> {
    const { nodeId, attempt } = command;
    const node = this.nodes.get(nodeId) as Extract<PlanNode, { type: 'agent' }>;
    try {
      const output = await this.turns.run(async () => {
        if (command.delayMs > 0) await sleep(command.delayMs);
        return agentActivity(node)(agentTurnInput(this.input, node, command, carry));
      });
      this.inbox.push({ type: 'nodeSucceeded', at: now(), nodeId, output, attempt });
    } catch (err) {
      // The turn may not have written what it carried: it goes first in what is written next.
      this.pending.unshift(carry);
      if (!isCancellation(err)) this.inbox.push({ type: 'nodeFailed', at: now(), nodeId, attempt, ...agentFailure(err) });
    }
  }

  private async callModel(command: Extract<Command, { type: 'callModel' }>, carry: Ledger): Promise<void> {
    const { nodeId, attempt, round } = command;
    const node = this.nodes.get(nodeId) as Extract<PlanNode, { type: 'agent' }>;
    try {
      const answer = await this.turns.run(async () => {
        if (command.delayMs > 0) await sleep(command.delayMs);
        const input = agentTurnInput(this.input, node, command, carry);
        return agentActivity(node)({
          ...input,
          toolCallBytes: command.toolCallBytes,
          ...(mcpServersOf(node.data.tools ?? []).length ? { mcpServers: mcpServersOf(node.data.tools ?? []) } : {}),
          ...(workflowToolsOf(node.data.tools ?? []).length ? { workflowTools: workflowToolsOf(node.data.tools ?? []) } : {}),
          request: { ...input.request, tools: toolSpecs(node.data.tools ?? []), turns: command.turns },
        });
      });
      this.inbox.push({ type: 'modelAnswered', at: now(), nodeId, round, attempt, answer });
    } catch (err) {
      this.pending.unshift(carry);
      if (!isCancellation(err)) this.inbox.push({ type: 'nodeFailed', at: now(), nodeId, attempt, ...agentFailure(err) });
    }
  }

  /** One conversation turn, or the choice of its speaker: one activity, its answer or failure back to the machine. */
  private async callConversation(command: Extract<Command, { type: 'callTurn' | 'selectSpeaker' }>, carry: Ledger): Promise<void> {
    const { nodeId, attempt, round } = command;
    const node = this.nodes.get(nodeId) as Extract<PlanNode, { type: 'conversation' }>;
    const { participants, retry, timeoutSeconds } = node.data;
    const voice = (p: (typeof participants)[number]) => ({ name: p.name, provider: p.provider, model: p.model, ...(p.credentialId ? { credentialId: p.credentialId } : {}) });
    const base = {
      tenantId: this.input.tenantId,
      executionId: this.input.executionId,
      nodeId,
      round,
      attempt,
      maximumAttempts: retry?.maximumAttempts ?? DEFAULT_AGENT_ATTEMPTS,
      ledger: carry,
      participants: participants.map((p) => p.name),
      topic: command.topic,
      systems: command.systems,
      transcript: command.transcript,
      ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    };
    const activities = conversationActivities(node);
    try {
      const happening = await this.turns.run(async (): Promise<Happening> => {
        if (command.delayMs > 0) await sleep(command.delayMs);
        if (command.type === 'selectSpeaker') {
          // The first participant's model chooses (core/conversation.ts).
          const answer = await activities.selectConversationSpeaker({ ...base, selector: voice(participants[0]!), candidates: command.candidates });
          return { type: 'speakerSelected', at: now(), nodeId, round, attempt, answer: { text: answer.text, usage: answer.usage } };
        }
        const speaker = participants.find((p) => p.name === command.speaker)!;
        const answer = await activities.runConversationTurn({ ...base, speaker: voice(speaker), runOutputBytes: command.runOutputBytes });
        return { type: 'turnAnswered', at: now(), nodeId, round, attempt, answer: { text: answer.text, usage: answer.usage, model: answer.model } };
      });
      this.inbox.push(happening);
    } catch (err) {
      this.pending.unshift(carry);
      if (!isCancellation(err)) this.inbox.push({ type: 'nodeFailed', at: now(), nodeId, attempt, ...agentFailure(err) });
    }
  }

  private async callTool(command: Extract<Command, { type: 'callTool' }>): Promise<void> {
    const { nodeId, round, call } = command;
    const startedAt = Date.now();
    try {
      const { tenantId, executionId } = this.input;
      const { tool } = command;
      const { result, durationMs } = await this.turns.run(() =>
        tool.type === 'workflow' ? this.callWorkflowTool(command, tool) : callTool({ tenantId, executionId, nodeId, round, call, tool, scope: command.scope }),
      );
      this.inbox.push({ type: 'toolDone', at: now(), nodeId, round, callId: call.id, result, durationMs });
    } catch (err) {
      if (!isCancellation(err)) {
        this.inbox.push({ type: 'toolDone', at: now(), nodeId, round, callId: call.id, error: rootCauseMessage(err), durationMs: Date.now() - startedAt });
      }
    }
  }

  /** A subflow node's child run (workflows/child-run.ts): its outputs, or why it did not succeed, go to the machine. */
  private async runSubflow(command: Extract<Command, { type: 'runChild' }>): Promise<void> {
    const { nodeId } = command;
    try {
      const outputs = await this.turns.run(() =>
        runChildExecution(this.input, command, (childExecutionId, childWorkflowId) => this.inbox.push({ type: 'childStarted', at: now(), nodeId, childExecutionId, childWorkflowId })),
      );
      this.inbox.push({ type: 'childEnded', at: now(), nodeId, outputs });
    } catch (err) {
      if (isCancellation(err)) return;
      const error = err instanceof NodeFailed ? { code: err.code, message: err.message } : { code: SUBFLOW_FAILED, message: rootCauseMessage(err) };
      this.inbox.push({ type: 'childEnded', at: now(), nodeId, error });
    }
  }

  /** A map node's coordinator (workflows/map-run.ts): its output, or why the map failed, go to the machine. */
  private async runMap(command: Extract<Command, { type: 'runMap' }>): Promise<void> {
    const { nodeId } = command;
    try {
      const output = await this.turns.run(() => runMapNode(this.input, command));
      this.inbox.push({ type: 'mapEnded', at: now(), nodeId, output });
    } catch (err) {
      if (isCancellation(err)) return;
      this.inbox.push({ type: 'mapEnded', at: now(), nodeId, error: err instanceof NodeFailed ? { code: err.code, message: err.message } : { code: 'MAP_FAILED', message: rootCauseMessage(err) } });
    }
  }

  /** A workflow tool's call is a child run: the model's arguments are its inputs, its outputs the result. */
  private async callWorkflowTool(command: Extract<Command, { type: 'callTool' }>, tool: WorkflowTool): Promise<{ result: unknown; durationMs: number }> {
    const { nodeId, round } = command;
    const call = { round, callId: command.call.id };
    const args = command.call.arguments;
    const inputs = args !== null && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
    const startedAt = Date.now();
    const spec = { nodeId, call, workflowId: tool.workflowId, ...(tool.version !== undefined ? { version: tool.version } : {}), inputs };
    const result = await runChildExecution(this.input, spec, (childExecutionId, childWorkflowId) =>
      this.inbox.push({ type: 'childStarted', at: now(), nodeId, childExecutionId, childWorkflowId, call }),
    );
    return { result, durationMs: Date.now() - startedAt };
  }

  /** A tool call waits as an ordinary approval (the inbox, the decide Update, the operator Signal). */
  private async waitToolApproval(command: Extract<Command, { type: 'waitToolApproval' }>): Promise<void> {
    const { nodeId, round, callId, approvalKey } = command;
    try {
      const shown = { title: command.title, instructions: command.instructions, context: command.context };
      const output = await this.turns.run(() => this.desk.wait(approvalKey, { title: command.title }, shown, { events: [], nodes: [] }));
      this.inbox.push({ type: 'toolApprovalDecided', at: now(), nodeId, round, callId, decision: output.decision, comment: output.comment });
    } catch (err) {
      if (!isCancellation(err)) this.inbox.push(runFailed(err));
    }
  }

  private async waitApproval(command: Extract<Command, { type: 'waitApproval' }>, carry: Ledger): Promise<void> {
    const { nodeId } = command;
    const node = this.nodes.get(nodeId) as Extract<PlanNode, { type: 'approval' }>;
    try {
      const shown = { title: command.title, instructions: command.instructions, context: command.context };
      const output = await this.turns.run(() => this.desk.wait(nodeId, node.data, shown, carry));
      this.inbox.push({ type: 'approvalDecided', at: now(), nodeId, output });
    } catch (err) {
      if (err instanceof NodeFailed && err.code === 'APPROVAL_TIMED_OUT') {
        this.inbox.push({ type: 'approvalTimedOut', at: now(), nodeId, timeoutSeconds: node.data.timeoutSeconds ?? 0 });
      } else if (!isCancellation(err)) {
        this.inbox.push(runFailed(err));
      }
    }
  }

  /** Waits for what was stopped, records the run's end with everything still pending, and ends. */
  private async finish(): Promise<CanvasRunResult> {
    const end = this.end!;
    // The end is recorded even if a cancel arrives now: the run is already over.
    await CancellationScope.nonCancellable(async () => {
      await Promise.allSettled(this.inFlight);
      await this.writes;
      const approvals = end.status === 'succeeded' ? [] : this.desk.closeOpen('cancelled');
      await this.record(this.takePending(), approvals);
    });
    if (this.cancelled) throw this.cancelled;
    if (end.error) throw ApplicationFailure.nonRetryable(end.error.message, end.error.code);
    return { outputs: end.outputs };
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private takePending(): Ledger {
    const ledger = mergeLedgers(this.pending);
    this.pending = [];
    return ledger;
  }

  private pendingBytes(): number {
    return this.pending.reduce((sum, l) => sum + jsonBytes(l), 0);
  }

  /** Writes a ledger through the local progress activity, in batches that each fit one payload. */
  private async record(ledger: Ledger, approvals: ApprovalUpdate[] = []): Promise<void> {
    const { tenantId, executionId } = this.input;
    const buffer = new ProgressBuffer((batch) => recordProgress({ tenantId, executionId, ...batch }));
    for (const node of ledger.nodes) buffer.node(node);
    for (const event of ledger.events) buffer.event(event);
    await CancellationScope.nonCancellable(() => buffer.flush(ledger.execution, approvals));
  }
}

const now = () => new Date().toISOString();

function agentTurnInput(
  input: CanvasRunInput,
  node: Extract<PlanNode, { type: 'agent' }>,
  command: Extract<Command, { type: 'callAgent' | 'callModel' }>,
  carry: Ledger,
): AgentTurnInput {
  const data = node.data;
  return {
    tenantId: input.tenantId,
    executionId: input.executionId,
    nodeId: node.id,
    attempt: command.attempt,
    maximumAttempts: data.retry?.maximumAttempts ?? DEFAULT_AGENT_ATTEMPTS,
    runOutputBytes: command.runOutputBytes,
    ledger: carry,
    ...(data.credentialId ? { credentialId: data.credentialId } : {}),
    request: {
      provider: data.provider,
      model: data.model,
      prompt: command.texts.prompt,
      ...(command.texts.system !== undefined ? { system: command.texts.system } : {}),
      ...(data.temperature !== undefined ? { temperature: data.temperature } : {}),
      ...(data.maxTokens !== undefined ? { maxTokens: data.maxTokens } : {}),
      ...(data.responseFormat !== undefined ? { responseFormat: data.responseFormat } : {}),
      ...(data.timeoutSeconds !== undefined ? { timeoutMs: data.timeoutSeconds * 1000 } : {}),
      ...(data.delayMs !== undefined ? { delayMs: data.delayMs } : {}),
    },
  };
}

/** How a failed turn reads to the machine: the provider's words, whether a retry may help, its Retry-After. */
function agentFailure(err: unknown): { code: string; message: string; retryable: boolean; retryAfterMs?: number } {
  let code = 'AGENT_FAILED';
  let retryable = true;
  let retryAfterMs: number | undefined;
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure) {
      if (e.type === OUTPUT_TOO_LARGE) code = OUTPUT_TOO_LARGE;
      if (e.nonRetryable) retryable = false;
      const after = (e.details?.[0] as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
      if (typeof after === 'number' && retryable) retryAfterMs = after;
    }
  }
  return { code, message: rootCauseMessage(err), retryable, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

function runFailed(err: unknown): Happening {
  return { type: 'runFailed', at: now(), message: rootCauseMessage(err) };
}
