// The platform's run machine (core/run-machine.ts) driven in-process with scripted agent outcomes and
// approval decisions: no Temporal, no database, milliseconds per run. The parity tests run the exported
// Python runner on the same plan and script (test/support/python-runner.ts) and compare what both decided.
//
// The driver follows the Python runner's (templates/package/runner.py) order of happenings: what the run
// finds out itself (an evaluation, a decision) is fed before any agent's answer; agent answers come in the
// order the turns were called, except that a scripted `hang` never answers and an `after` waits for a node.
import { EVALUATION_ERROR, type EvaluateNodesInput, type NodeEvaluationResult } from '../../core/evaluation-protocol';
import { evaluateExpression } from '../../core/expression';
import type { PlanNode, RunPlan } from '../../core/plan';
import { initialState, step, type Command, type Happening, type Ledger, type RunState } from '../../core/run-machine';
import { isNodeTerminal } from '../../core/scheduler';
import { renderTemplate } from '../../core/template';

/** One agent attempt's outcome. Without one, the attempt answers `{text: <its prompt>}`. */
export interface AgentOutcome {
  /** Answers `{text}`. */
  text?: string;
  /** Fails with this message (code AGENT_FAILED). */
  fail?: string;
  retryable?: boolean;
  retryAfterMs?: number;
  /** Never answers: the turn stays in flight until the run stops it. */
  hang?: boolean;
  /** Answers only once this node has ended (fixes the order of parallel answers). */
  after?: string;
}

/**
 * What the outside world does in a run. `approvals` are the runner's `--decide NODE=…` verdicts (`interrupt`
 * is Ctrl-C at the approval's prompt). `cancelWhen` cancels the run once that node is in flight and nothing
 * else can happen (the Python side sends itself SIGINT from the node's hanging turn).
 */
export interface RunScript {
  agents?: Record<string, AgentOutcome[]>;
  approvals?: Record<string, 'approve' | 'reject' | 'timeout' | 'interrupt'>;
  cancelWhen?: string;
}

/** A node event as both sides record it, without times, sizes and previews. */
export interface EventView {
  type: string;
  key: string;
  nodeId?: string;
  status?: string;
  attempt?: number;
  nextAttempt?: number;
  handle?: string | null;
  /** A failure the node's onError handled (node.succeeded). */
  handled?: boolean;
  code?: string;
  error?: string;
}

export interface ScriptedRunResult {
  status: RunState['status'];
  outputs: Record<string, unknown>;
  error: { code: string; message: string; nodeId?: string } | null;
  nodes: Record<string, { status: string; attempts: number; handle: string | null }>;
  events: EventView[];
  /** Node row updates in order: `nodeId status [attempts]`. */
  rows: string[];
  /** Commands in order: `evaluate:a,b`, `callAgent:a#2@20`, `waitApproval:r`, `stopInFlight`, `finish:failed`. */
  commands: string[];
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

export async function runScripted(plan: RunPlan, inputs: Record<string, unknown>, script: RunScript): Promise<ScriptedRunResult> {
  const nodes = new Map(plan.nodes.map((n) => [n.id, n]));
  const events: EventView[] = [];
  const rows: string[] = [];
  const commands: string[] = [];
  const local: Happening[] = [];
  let turns: { nodeId: string; attempt: number; outcome: AgentOutcome }[] = [];
  let state = initialState(plan, inputs);
  let end: Extract<Command, { type: 'finish' }> | null = null;
  let tick = 0;
  const at = () => new Date(T0 + tick++).toISOString();

  const feed = async (happening: Happening): Promise<void> => {
    const result = step(plan, state, happening);
    state = result.state;
    keep(result.ledger, events, rows);
    for (const command of result.commands) {
      commands.push(commandView(command));
      switch (command.type) {
        case 'evaluate':
          local.push({ type: 'evaluated', at: at(), results: await evaluateWave(command.input) });
          break;
        case 'callAgent':
          turns.push({ nodeId: command.nodeId, attempt: command.attempt, outcome: script.agents?.[command.nodeId]?.[command.attempt - 1] ?? {} });
          break;
        case 'waitApproval':
          local.push(decide(nodes.get(command.nodeId) as Extract<PlanNode, { type: 'approval' }>, script, at()));
          break;
        case 'stopInFlight':
          turns = [];
          break;
        case 'finish':
          end = command;
          break;
        default:
          throw new Error(`the scripted run does not carry out ${command.type}`);
      }
    }
  };

  await feed({ type: 'started', at: at() });
  while (!end) {
    const next = local.shift();
    if (next) {
      await feed(next);
      continue;
    }
    const i = turns.findIndex((t) => !t.outcome.hang && (!t.outcome.after || isNodeTerminal(state.nodes[t.outcome.after])));
    if (i >= 0) {
      const [turn] = turns.splice(i, 1);
      await feed(answer(turn!, state));
      continue;
    }
    const cancelAt = script.cancelWhen;
    if (cancelAt && ['running', 'waiting'].includes(state.nodes[cancelAt]?.status ?? '')) {
      await feed({ type: 'cancelRequested', at: at() });
      continue;
    }
    throw new Error(`the scripted run is stuck: ${JSON.stringify(state.nodes)}`);
  }
  return {
    status: state.status,
    outputs: state.outputs,
    error: state.error,
    nodes: Object.fromEntries(Object.entries(state.nodes).map(([id, n]) => [id, { status: n.status, attempts: n.attempts, handle: n.handle }])),
    events,
    rows,
    commands,
  };

  function answer(turn: { nodeId: string; attempt: number; outcome: AgentOutcome }, s: RunState): Happening {
    const { nodeId, attempt, outcome } = turn;
    if (outcome.fail !== undefined) {
      return {
        type: 'nodeFailed', at: at(), nodeId, attempt, code: 'AGENT_FAILED', message: outcome.fail, retryable: outcome.retryable ?? false,
        ...(outcome.retryable && outcome.retryAfterMs !== undefined ? { retryAfterMs: outcome.retryAfterMs } : {}),
      };
    }
    return { type: 'nodeSucceeded', at: at(), nodeId, attempt, output: { text: outcome.text ?? s.agentTexts[nodeId]?.prompt ?? '' } };
  }
}

/** The approval desk's answer to a scripted verdict (workflows/approval-desk.ts, decided on the command line). */
function decide(node: Extract<PlanNode, { type: 'approval' }>, script: RunScript, at: string): Happening {
  const verdict = script.approvals?.[node.id];
  if (verdict === 'interrupt') return { type: 'cancelRequested', at };
  if (verdict === 'timeout') {
    const policy = node.data.onTimeout ?? 'reject';
    if (policy === 'fail') return { type: 'approvalTimedOut', at, nodeId: node.id, timeoutSeconds: node.data.timeoutSeconds ?? 0 };
    const decision = policy === 'approve' ? 'approved' : 'rejected';
    const record = { decision: policy, comment: null, data: {}, at, by: 'timeout', userId: null, email: null, name: null };
    return { type: 'approvalDecided', at, nodeId: node.id, output: { decision, decidedBy: 'timeout', decisions: [record], comment: null, data: {}, at } as { decision: string } };
  }
  if (verdict !== 'approve' && verdict !== 'reject') throw new Error(`no scripted decision for approval ${node.id}`);
  const decision = verdict === 'approve' ? 'approved' : 'rejected';
  return { type: 'approvalDecided', at, nodeId: node.id, output: { decision, decidedBy: 'cli', decisions: [], comment: null, data: {}, at } as { decision: string } };
}

/** The evaluateNodes activity in-process (no threads, no byte caps: the scripted plans are small). */
async function evaluateWave(input: EvaluateNodesInput): Promise<Record<string, NodeEvaluationResult>> {
  const results: Record<string, NodeEvaluationResult> = {};
  for (const request of input.nodes) {
    try {
      const values: Record<string, unknown> = {};
      for (const [name, field] of Object.entries(request.fields)) {
        const value =
          field.kind === 'template'
            ? renderTemplate(field.source, input.scope)
            : field.kind === 'condition'
              ? Boolean(await evaluateExpression(field.source, input.scope, { nowMs: input.nowMs }))
              : await evaluateExpression(field.source, input.scope, { nowMs: input.nowMs });
        const json = JSON.stringify(value);
        values[name] = json === undefined ? undefined : (JSON.parse(json) as unknown);
      }
      results[request.nodeId] = { status: 'evaluated', values, bytes: Buffer.byteLength(JSON.stringify(values)) };
    } catch (err) {
      results[request.nodeId] = { status: 'failed', code: EVALUATION_ERROR, message: err instanceof Error ? err.message : String(err) };
    }
  }
  return results;
}

function keep(ledger: Ledger, events: EventView[], rows: string[]): void {
  for (const e of ledger.events) events.push(eventView(e));
  for (const r of ledger.nodes) rows.push(rowView(r.nodeId, r.status, r.attempts));
}

export function eventView(e: { type: string; key?: string; nodeId?: string | null; data?: Record<string, unknown> | null }): EventView {
  const data = e.data ?? {};
  const view: EventView = { type: e.type, key: e.key ?? '' };
  if (e.nodeId) view.nodeId = e.nodeId;
  for (const field of ['status', 'attempt', 'nextAttempt', 'handle', 'handled', 'code', 'error'] as const) {
    const value = data[field];
    if (value !== undefined && (value === null || typeof value !== 'object')) (view as unknown as Record<string, unknown>)[field] = value;
  }
  return view;
}

export function rowView(nodeId: string, status: string | undefined, attempts: number | undefined): string {
  return [nodeId, status ?? '-', ...(attempts !== undefined ? [String(attempts)] : [])].join(' ');
}

function commandView(c: Command): string {
  switch (c.type) {
    case 'evaluate':
      return `evaluate:${c.input.nodes.map((n) => n.nodeId).join(',')}`;
    case 'callAgent':
      return `callAgent:${c.nodeId}#${c.attempt}@${c.delayMs}`;
    case 'waitApproval':
      return `waitApproval:${c.nodeId}`;
    case 'stopInFlight':
      return 'stopInFlight';
    case 'finish':
      return `finish:${c.status}`;
    default:
      return c.type;
  }
}
