// The `canvasRun` workflow: interprets a compiled run plan. The texts of each wave of ready nodes
// (transform, condition and output values, agent prompts, approval titles) are evaluated by one local
// activity in the worker's bounded evaluation threads, never in this sandbox; agent turns are activities
// with the node's retry and timeout policy; approvals are durable waits (approval-desk.ts). Ready nodes run
// in parallel; a node whose incoming edges are all inactive is skipped.
import {
  ApplicationFailure,
  CancellationScope,
  ActivityCancellationType,
  defineQuery,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { TesseraActivities, AgentTurnOutput } from '../activities';
import { APPROVAL_CONTEXT_NODES_MAX_BYTES, type ApprovalContext } from '../core/approval';
import { EVALUATION_ERROR, nodeEvaluation, type NodeEvaluationRequest } from '../core/evaluation-protocol';
import { OUTPUT_TOO_LARGE, jsonBytes } from '../core/limits';
import type { PlanNode } from '../core/plan';
import { isRunComplete, nextSteps, type NodeRunState } from '../core/scheduler';
import { ApprovalDesk } from './approval-desk';
import { NodeFailed } from './node-failed';
import { ProgressBuffer } from './progress-buffer';
import {
  STATE_QUERY,
  type CanvasRunInput,
  type CanvasRunResult,
  type RunStateView,
} from '../core/run-protocol';

export const stateQuery = defineQuery<RunStateView>(STATE_QUERY);

// Progress writes retry without an attempt limit (a database restart must not fail runs), bounded in time.
const { recordProgress } = proxyActivities<TesseraActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
});

// One wave's texts. Each is bounded by EXPRESSION_TIMEOUT_MS once a thread takes it (a limit reached is a
// per-node result, not a failure); the rest of the time is the wait for a thread. Only a failure of the pool
// itself fails the activity, and that is worth retrying.
const { evaluateNodes } = proxyLocalActivities<TesseraActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
});

const DEFAULT_AGENT_ATTEMPTS = 3;
const AGENT_HEARTBEAT_TIMEOUT = '10 seconds';

function agentActivity(node: Extract<PlanNode, { type: 'agent' }>) {
  const data = node.data;
  const turnSeconds = Math.max(data.timeoutSeconds ?? 300, Math.ceil((data.delayMs ?? 0) / 1000) + 60);
  return proxyActivities<TesseraActivities>({
    startToCloseTimeout: `${turnSeconds} seconds`,
    heartbeatTimeout: AGENT_HEARTBEAT_TIMEOUT,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      maximumAttempts: data.retry?.maximumAttempts ?? DEFAULT_AGENT_ATTEMPTS,
      initialInterval: `${data.retry?.initialIntervalSeconds ?? 1} seconds`,
      backoffCoefficient: data.retry?.backoffCoefficient ?? 2,
      maximumInterval: '2 minutes',
    },
  }).runAgentTurn;
}

/** The failure code of an agent turn: its own when it refused an oversized output, else AGENT_FAILED. */
function agentFailureCode(err: unknown): string {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if ((e as { type?: unknown }).type === OUTPUT_TOO_LARGE) return OUTPUT_TOO_LARGE;
  }
  return 'AGENT_FAILED';
}

function failureMessage(err: unknown): string {
  // An activity failure wraps the provider's error as its cause; users want the provider's words.
  let e: unknown = err;
  while (e instanceof Error && 'cause' in e && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(err);
}

export async function canvasRun(input: CanvasRunInput): Promise<CanvasRunResult> {
  const { plan, tenantId, executionId } = input;
  const nodesById = new Map(plan.nodes.map((n) => [n.id, n]));
  const states: Record<string, NodeRunState & { attempts: number }> = {};
  for (const n of plan.nodes) states[n.id] = { status: 'pending', attempts: 0 };
  const nodeOutputs: Record<string, unknown> = {};
  const outputs: Record<string, unknown> = {};
  let status: RunStateView['status'] = 'running';

  setHandler(stateQuery, () => ({
    status: status === 'running' && desk.pendingCount() ? 'waiting' : status,
    nodes: Object.fromEntries(Object.entries(states).map(([id, s]) => [id, { status: s.status, attempts: s.attempts, handle: s.handle ?? null }])),
    outputs,
    approvals: desk.view(),
  }));

  const progress = new ProgressBuffer((batch) => recordProgress({ tenantId, executionId, ...batch }));
  const at = () => new Date().toISOString();
  const flush = progress.flush.bind(progress);

  // Sizes of what the run holds, so the evaluation and agent activities can keep it within the run's caps.
  const outputBytes: Record<string, number> = {};
  const used = { run: 0, outputs: 0 };
  function keepOutput(nodeId: string, output: unknown, bytes = jsonBytes(output)): void {
    nodeOutputs[nodeId] = output;
    outputBytes[nodeId] = bytes;
    used.run += bytes;
  }

  const scope = () => ({ inputs: input.inputs, nodes: nodeOutputs });
  const desk = new ApprovalDesk((batch) => recordProgress({ tenantId, executionId, ...batch }), plan.workflowId);

  /** The run as an approver sees it: its inputs and as many node outputs as fit the approval record. */
  function approvalContext(): ApprovalContext {
    const nodes: Record<string, unknown> = {};
    const omittedNodes: string[] = [];
    let bytes = 0;
    for (const [nodeId, output] of Object.entries(nodeOutputs)) {
      bytes += outputBytes[nodeId] ?? 0;
      if (bytes <= APPROVAL_CONTEXT_NODES_MAX_BYTES) nodes[nodeId] = output;
      else omittedNodes.push(nodeId);
    }
    return { inputs: input.inputs, nodes, ...(omittedNodes.length ? { omittedNodes } : {}) };
  }

  /** Records the end of a trigger, transform, condition or output node, from its evaluated value. */
  function completePureNode(node: PlanNode, value: unknown, bytes: number | undefined, startedAt: string): void {
    let output = value;
    let handle: string | null = null;
    if (node.type === 'trigger') output = input.inputs;
    if (node.type === 'condition') {
      handle = value ? 'true' : 'false';
      output = { result: Boolean(value) };
      bytes = undefined;
    }
    if (node.type === 'output') {
      outputs[node.id] = output;
      used.outputs += bytes ?? jsonBytes(output);
    }
    keepOutput(node.id, output, bytes);
    states[node.id] = { status: 'succeeded', handle, attempts: 1 };
    const finishedAt = at();
    progress.node({ nodeId: node.id, status: 'succeeded', attempts: 1, output: output ?? null, startedAt, finishedAt });
    progress.event({ type: 'node.started', nodeId: node.id, at: startedAt, data: { attempt: 1 }, key: `node:${node.id}:started` });
    progress.event({ type: 'node.succeeded', nodeId: node.id, at: finishedAt, data: handle ? { handle } : {}, key: `node:${node.id}:succeeded` });
  }

  async function runAgentNode(node: Extract<PlanNode, { type: 'agent' }>, texts: Record<string, unknown>): Promise<void> {
    const data = node.data;
    const request = {
      provider: data.provider,
      model: data.model,
      prompt: String(texts.prompt ?? ''),
      ...(data.system !== undefined ? { system: String(texts.system ?? '') } : {}),
      ...(data.temperature !== undefined ? { temperature: data.temperature } : {}),
      ...(data.maxTokens !== undefined ? { maxTokens: data.maxTokens } : {}),
      ...(data.responseFormat !== undefined ? { responseFormat: data.responseFormat } : {}),
      ...(data.timeoutSeconds !== undefined ? { timeoutMs: data.timeoutSeconds * 1000 } : {}),
      ...(data.delayMs !== undefined ? { delayMs: data.delayMs } : {}),
    };
    let result: AgentTurnOutput;
    try {
      result = await agentActivity(node)({
        tenantId,
        executionId,
        nodeId: node.id,
        maximumAttempts: data.retry?.maximumAttempts ?? DEFAULT_AGENT_ATTEMPTS,
        runOutputBytes: used.run,
        ...(data.credentialId ? { credentialId: data.credentialId } : {}),
        request,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      throw new NodeFailed(node.id, agentFailureCode(err), failureMessage(err));
    }
    keepOutput(node.id, result);
    states[node.id] = { status: 'succeeded', attempts: states[node.id]?.attempts ?? 1 };
  }

  async function runApprovalNode(node: Extract<PlanNode, { type: 'approval' }>, texts: Record<string, unknown>): Promise<void> {
    const shown = {
      title: String(texts.title ?? ''),
      instructions: node.data.instructions !== undefined ? String(texts.instructions ?? '') : null,
      context: approvalContext(),
    };
    states[node.id] = { status: 'waiting', attempts: 1 };
    const output = await desk.wait(node.id, node.data, shown);
    keepOutput(node.id, output);
    const handle = output.decision;
    states[node.id] = { status: 'succeeded', attempts: 1, handle };
    progress.node({ nodeId: node.id, status: 'succeeded', output, finishedAt: at() });
    progress.event({ type: 'node.succeeded', nodeId: node.id, at: at(), data: { handle }, key: `node:${node.id}:succeeded` });
  }

  // A cancelled run is seen here, not only where a node happens to notice it: the nodes' scope swallows its
  // own cancellation (a failed sibling cancels it too), so the loop asks the run's scope after every wait.
  const runScope = CancellationScope.current();
  async function stopIfCancelled(): Promise<void> {
    if (runScope.consideredCancelled) await runScope.cancelRequested;
  }

  // Agent turns and approvals run in a scope of their own, so one failing node can stop its siblings.
  const turns = new CancellationScope();
  const running = new Map<string, Promise<void>>();
  let failure: NodeFailed | null = null;

  type WaitingNode = Extract<PlanNode, { type: 'agent' | 'approval' }>;
  function launch(node: WaitingNode, texts: Record<string, unknown>): void {
    states[node.id] = { status: node.type === 'agent' ? 'running' : 'waiting', attempts: 1 };
    const p = turns
      .run(() => (node.type === 'agent' ? runAgentNode(node, texts) : runApprovalNode(node, texts)))
      .catch((err: unknown) => {
        if (err instanceof NodeFailed) {
          failure ??= err;
          states[node.id] = { status: 'failed', attempts: states[node.id]?.attempts ?? 1 };
          progress.node({ nodeId: node.id, status: 'failed', error: { code: err.code, message: err.message, nodeId: node.id }, finishedAt: at() });
          progress.event({ type: 'node.failed', nodeId: node.id, at: at(), data: { error: err.message }, key: `node:${node.id}:failed` });
          turns.cancel();
        } else if (isCancellation(err)) {
          states[node.id] = { status: 'cancelled', attempts: states[node.id]?.attempts ?? 1 };
          progress.node({ nodeId: node.id, status: 'cancelled', finishedAt: at() });
        } else {
          throw err;
        }
      })
      .finally(() => running.delete(node.id));
    running.set(node.id, p);
  }

  /**
   * Runs one wave of ready nodes: one evaluation call for all their texts, then each node completes (trigger,
   * transform, condition, output), is launched (agent, approval) or fails with the evaluation's code. A node
   * whose result was deferred (to keep the call's result one payload) stays pending and is ready again next.
   */
  async function runWave(nodes: PlanNode[]): Promise<void> {
    const startedAt = at();
    const requests = nodes.map(nodeEvaluation).filter((r): r is NodeEvaluationRequest => r !== null);
    const { results } = requests.length ? await evaluateNodes({ scope: scope(), nowMs: Date.now(), nodes: requests, usedBytes: used }) : { results: {} };
    const launches: [WaitingNode, Record<string, unknown>][] = [];
    for (const node of nodes) {
      const result = results[node.id];
      if (result?.status === 'deferred') continue;
      if (result?.status === 'failed') {
        const code = result.code === EVALUATION_ERROR ? 'NODE_ERROR' : result.code;
        failure ??= new NodeFailed(node.id, code, `${node.type} node ${node.id}: ${result.message}`);
        turns.cancel();
        return;
      }
      const values = result?.values ?? {};
      if (node.type === 'agent' || node.type === 'approval') launches.push([node, values]);
      else completePureNode(node, values.value, result?.bytes, startedAt);
    }
    if (launches.length || progress.full) await flush();
    for (const [node, texts] of launches) launch(node, texts);
  }

  try {
    progress.event({ type: 'execution.started', at: at(), key: 'execution:started' });
    await flush({ status: 'running', startedAt: at() });

    while (!failure && !isRunComplete(plan, states)) {
      const { ready, skip } = nextSteps(plan, states);
      for (const id of skip) {
        states[id] = { status: 'skipped', attempts: 0 };
        progress.node({ nodeId: id, status: 'skipped' });
        progress.event({ type: 'node.skipped', nodeId: id, at: at(), key: `node:${id}:skipped` });
      }
      if (ready.length) await runWave(ready.map((id) => nodesById.get(id)!));
      if (ready.length || skip.length) continue;

      await flush();
      if (!running.size) throw new Error('the run cannot make progress: no node is ready or running');
      await Promise.race(running.values());
      await stopIfCancelled();
    }
    await Promise.all(running.values());
    await stopIfCancelled();
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        status = 'cancelled';
        turns.cancel();
        await Promise.allSettled(running.values());
        for (const n of plan.nodes) {
          const s = states[n.id]!;
          if (s.status === 'pending' || s.status === 'running' || s.status === 'waiting') {
            states[n.id] = { ...s, status: 'cancelled' };
            progress.node({ nodeId: n.id, status: 'cancelled', finishedAt: at() });
          }
        }
        progress.event({ type: 'execution.cancelled', at: at(), key: 'execution:final' });
        await flush({ status: 'cancelled', finishedAt: at(), outputs }, desk.closeOpen('cancelled'));
      });
      throw err;
    }
    failure ??= err instanceof NodeFailed ? err : new NodeFailed('', 'RUN_ERROR', failureMessage(err));
  }

  if (failure) {
    const f: NodeFailed = failure;
    status = f.code === 'APPROVAL_TIMED_OUT' ? 'timed_out' : 'failed';
    if (f.nodeId && states[f.nodeId]?.status !== 'failed') {
      states[f.nodeId] = { status: 'failed', attempts: states[f.nodeId]?.attempts ?? 1 };
      progress.node({ nodeId: f.nodeId, status: 'failed', error: { code: f.code, message: f.message, nodeId: f.nodeId }, finishedAt: at() });
      progress.event({ type: 'node.failed', nodeId: f.nodeId, at: at(), data: { error: f.message }, key: `node:${f.nodeId}:failed` });
    }
    for (const n of plan.nodes) {
      const s = states[n.id]!;
      if (s.status === 'pending' || s.status === 'running' || s.status === 'waiting') {
        states[n.id] = { ...s, status: 'cancelled' };
        progress.node({ nodeId: n.id, status: 'cancelled', finishedAt: at() });
      }
    }
    const error = { code: f.code, message: f.message, ...(f.nodeId ? { nodeId: f.nodeId } : {}) };
    progress.event({ type: status === 'timed_out' ? 'execution.timed_out' : 'execution.failed', at: at(), data: { error }, key: 'execution:final' });
    // The run's end is recorded even if a cancel arrives now: the run has already failed.
    await CancellationScope.nonCancellable(() => flush({ status, error, outputs, finishedAt: at() }, desk.closeOpen('cancelled')));
    throw ApplicationFailure.nonRetryable(f.message, f.code);
  }

  // Every node is done: a cancel arriving now is too late, and must not leave the success unrecorded.
  status = 'succeeded';
  progress.event({ type: 'execution.succeeded', at: at(), data: { outputs }, key: 'execution:final' });
  await CancellationScope.nonCancellable(() => flush({ status: 'succeeded', outputs, finishedAt: at() }));
  return { outputs };
}
