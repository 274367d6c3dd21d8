// FROZEN, FOR REPLAY ONLY. Remove once no run started before issue 10 is open (docs/decisions.md,
// "One run machine"): `canvasRun` as it landed in 51439c9, kept byte for byte in what it asks Temporal for,
// so a run that began under it (its history has no `run-machine` patch marker) finishes on the new worker
// the way it began. Pure nodes (trigger, transform, condition, output) are computed here; agent turns are
// activities with the node's retry and timeout policy (the turn writes its own progress: no `attempt` in its
// input); approvals are durable waits (approval-desk-51439c9.ts). Do not change; do not reuse.
import {
  ApplicationFailure,
  CancellationScope,
  ActivityCancellationType,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { TesseraActivities, AgentTurnOutput, RecordProgressInput } from '../../activities';
import type { NewExecutionEvent } from '../../core/events';
import { evaluateExpression } from '../../core/expression';
import type { PlanNode } from '../../core/plan';
import { isRunComplete, nextSteps, type NodeRunState } from '../../core/scheduler';
import { renderTemplate } from '../../core/template';
import { ApprovalDesk } from './approval-desk-51439c9';
import { NodeFailed } from '../node-failed';
import {
  STATE_QUERY,
  type CanvasRunInput,
  type CanvasRunResult,
  type RunStateView,
} from '../../core/run-protocol';

type NodeStateUpdate = NonNullable<RecordProgressInput['nodes']>[number];
type ExecutionStateUpdate = NonNullable<RecordProgressInput['execution']>;
type ApprovalUpdate = NonNullable<RecordProgressInput['approvals']>[number];

const stateQuery = defineQuery<RunStateView>(STATE_QUERY);

// Progress writes retry without an attempt limit (a database restart must not fail runs), bounded in time.
const { recordProgress } = proxyActivities<TesseraActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
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

function failureMessage(err: unknown): string {
  // An activity failure wraps the provider's error as its cause; users want the provider's words.
  let e: unknown = err;
  while (e instanceof Error && 'cause' in e && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(err);
}

export async function legacyCanvasRun(input: CanvasRunInput): Promise<CanvasRunResult> {
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

  let events: NewExecutionEvent[] = [];
  let nodeUpdates: NodeStateUpdate[] = [];
  const at = () => new Date().toISOString();
  async function flush(execution?: ExecutionStateUpdate, approvals?: ApprovalUpdate[]): Promise<void> {
    if (!events.length && !nodeUpdates.length && !execution && !approvals?.length) return;
    const batch = { tenantId, executionId, events, nodes: nodeUpdates, ...(execution ? { execution } : {}), ...(approvals?.length ? { approvals } : {}) };
    events = [];
    nodeUpdates = [];
    await recordProgress(batch);
  }

  const scope = () => ({ inputs: input.inputs, nodes: nodeOutputs });
  const desk = new ApprovalDesk((batch) => recordProgress({ tenantId, executionId, ...batch }), plan.workflowId);

  async function runPureNode(node: PlanNode): Promise<void> {
    const startedAt = at();
    let output: unknown;
    let handle: string | null = null;
    try {
      switch (node.type) {
        case 'trigger':
          output = input.inputs;
          break;
        case 'transform':
          output = 'template' in node.data ? renderTemplate(node.data.template, scope()) : await evaluateExpression(node.data.expression, scope(), { nowMs: Date.now() });
          break;
        case 'condition': {
          const result = Boolean(await evaluateExpression(node.data.expression, scope(), { nowMs: Date.now() }));
          handle = result ? 'true' : 'false';
          output = { result };
          break;
        }
        case 'output':
          output = renderTemplate(node.data.value, scope());
          outputs[node.id] = output;
          break;
        default:
          throw new Error(`node type ${node.type} is not computed in the workflow`);
      }
    } catch (err) {
      throw new NodeFailed(node.id, 'NODE_ERROR', `${node.type} node ${node.id}: ${failureMessage(err)}`);
    }
    nodeOutputs[node.id] = output;
    states[node.id] = { status: 'succeeded', handle, attempts: 1 };
    const finishedAt = at();
    nodeUpdates.push({ nodeId: node.id, status: 'succeeded', attempts: 1, output: output ?? null, startedAt, finishedAt });
    events.push(
      { type: 'node.started', nodeId: node.id, at: startedAt, data: { attempt: 1 }, key: `node:${node.id}:started` },
      { type: 'node.succeeded', nodeId: node.id, at: finishedAt, data: handle ? { handle } : {}, key: `node:${node.id}:succeeded` },
    );
  }

  async function runAgentNode(node: Extract<PlanNode, { type: 'agent' }>): Promise<void> {
    const data = node.data;
    const request = {
      provider: data.provider,
      model: data.model,
      prompt: renderTemplate(data.prompt, scope()),
      ...(data.system !== undefined ? { system: renderTemplate(data.system, scope()) } : {}),
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
        ...(data.credentialId ? { credentialId: data.credentialId } : {}),
        request,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      throw new NodeFailed(node.id, 'AGENT_FAILED', failureMessage(err));
    }
    nodeOutputs[node.id] = result;
    states[node.id] = { status: 'succeeded', attempts: states[node.id]?.attempts ?? 1 };
  }

  async function runApprovalNode(node: Extract<PlanNode, { type: 'approval' }>): Promise<void> {
    const shown = {
      title: renderTemplate(node.data.title, scope()),
      instructions: node.data.instructions !== undefined ? renderTemplate(node.data.instructions, scope()) : null,
      context: { inputs: input.inputs, nodes: { ...nodeOutputs } },
    };
    states[node.id] = { status: 'waiting', attempts: 1 };
    const output = await desk.wait(node.id, node.data, shown);
    nodeOutputs[node.id] = output;
    const handle = output.decision;
    states[node.id] = { status: 'succeeded', attempts: 1, handle };
    nodeUpdates.push({ nodeId: node.id, status: 'succeeded', output, finishedAt: at() });
    events.push({ type: 'node.succeeded', nodeId: node.id, at: at(), data: { handle }, key: `node:${node.id}:succeeded` });
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
  function launch(node: WaitingNode): void {
    states[node.id] = { status: node.type === 'agent' ? 'running' : 'waiting', attempts: 1 };
    const p = turns
      .run(() => (node.type === 'agent' ? runAgentNode(node) : runApprovalNode(node)))
      .catch((err: unknown) => {
        if (err instanceof NodeFailed) {
          failure ??= err;
          states[node.id] = { status: 'failed', attempts: states[node.id]?.attempts ?? 1 };
          nodeUpdates.push({ nodeId: node.id, status: 'failed', error: { code: err.code, message: err.message, nodeId: node.id }, finishedAt: at() });
          events.push({ type: 'node.failed', nodeId: node.id, at: at(), data: { error: err.message }, key: `node:${node.id}:failed` });
          turns.cancel();
        } else if (isCancellation(err)) {
          states[node.id] = { status: 'cancelled', attempts: states[node.id]?.attempts ?? 1 };
          nodeUpdates.push({ nodeId: node.id, status: 'cancelled', finishedAt: at() });
        } else {
          throw err;
        }
      })
      .finally(() => running.delete(node.id));
    running.set(node.id, p);
  }

  try {
    events.push({ type: 'execution.started', at: at(), key: 'execution:started' });
    await flush({ status: 'running', startedAt: at() });

    while (!failure && !isRunComplete(plan, states)) {
      const { ready, skip } = nextSteps(plan, states);
      for (const id of skip) {
        states[id] = { status: 'skipped', attempts: 0 };
        nodeUpdates.push({ nodeId: id, status: 'skipped' });
        events.push({ type: 'node.skipped', nodeId: id, at: at(), key: `node:${id}:skipped` });
      }
      const pure = ready.map((id) => nodesById.get(id)!).filter((n) => n.type !== 'agent' && n.type !== 'approval');
      for (const node of pure) {
        await runPureNode(node);
      }
      if (pure.length || skip.length) continue;

      await flush();
      for (const id of ready) launch(nodesById.get(id) as WaitingNode);
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
            nodeUpdates.push({ nodeId: n.id, status: 'cancelled', finishedAt: at() });
          }
        }
        events.push({ type: 'execution.cancelled', at: at(), key: 'execution:final' });
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
      nodeUpdates.push({ nodeId: f.nodeId, status: 'failed', error: { code: f.code, message: f.message, nodeId: f.nodeId }, finishedAt: at() });
      events.push({ type: 'node.failed', nodeId: f.nodeId, at: at(), data: { error: f.message }, key: `node:${f.nodeId}:failed` });
    }
    for (const n of plan.nodes) {
      const s = states[n.id]!;
      if (s.status === 'pending' || s.status === 'running' || s.status === 'waiting') {
        states[n.id] = { ...s, status: 'cancelled' };
        nodeUpdates.push({ nodeId: n.id, status: 'cancelled', finishedAt: at() });
      }
    }
    const error = { code: f.code, message: f.message, ...(f.nodeId ? { nodeId: f.nodeId } : {}) };
    events.push({ type: status === 'timed_out' ? 'execution.timed_out' : 'execution.failed', at: at(), data: { error }, key: 'execution:final' });
    // The run's end is recorded even if a cancel arrives now: the run has already failed.
    await CancellationScope.nonCancellable(() => flush({ status, error, outputs, finishedAt: at() }, desk.closeOpen('cancelled')));
    throw ApplicationFailure.nonRetryable(f.message, f.code);
  }

  // Every node is done: a cancel arriving now is too late, and must not leave the success unrecorded.
  status = 'succeeded';
  events.push({ type: 'execution.succeeded', at: at(), data: { outputs }, key: 'execution:final' });
  await CancellationScope.nonCancellable(() => flush({ status: 'succeeded', outputs, finishedAt: at() }));
  return { outputs };
}
