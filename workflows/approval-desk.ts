// Approvals inside a canvas run: each approval node is a durable wait (a workflow timer, so it can last
// for days and outlive every process) ended by the `decide` Update, whose validator refuses a wrong node,
// a second decision, a missing role or bad form data without touching history; or by the operators'
// `decision` Signal, checked the same way (an invalid one is recorded and ignored); or by its timeout.
import { ApplicationFailure, condition, defineSignal, defineUpdate, patched, proxyActivities, setHandler, uuid4 } from '@temporalio/workflow';
import {
  approvalOutcome,
  checkDecision,
  type ApprovalContext,
  DecisionRefused,
  type ApprovalWaitState,
  type DecideRequest,
  type DecisionSignal,
  type RecordedDecision,
} from '../core/approval';
import type { ApprovalData } from '../core/graph';
import type { RecordProgressInput } from '../activities';
import type { operatorSignalIdentity as OperatorSignalIdentity } from '../activities/operator-identity';
import type { Ledger } from '../core/run-machine';
import { DECIDE_UPDATE, DECISION_SIGNAL, type ApprovalDecisionResult } from '../core/run-protocol';
import { NodeFailed } from './node-failed';

export const decideUpdate = defineUpdate<ApprovalDecisionResult, [DecideRequest]>(DECIDE_UPDATE);
export const decisionSignal = defineSignal<[DecisionSignal]>(DECISION_SIGNAL);

/** Runs from before it recorded no sender identity for operator signals (and scheduled no activity for it). */
export const OPERATOR_IDENTITY_PATCH = 'operator-signal-identity';

// Reading a run's history is quick; a failure leaves the identity unknown rather than holding up the decision.
const { operatorSignalIdentity } = proxyActivities<{ operatorSignalIdentity: typeof OperatorSignalIdentity }>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

type Batch = Omit<RecordProgressInput, 'tenantId' | 'executionId'>;
type ApprovalUpdate = NonNullable<RecordProgressInput['approvals']>[number];

interface Wait extends ApprovalWaitState {
  id: string;
  nodeId: string;
  /** The outcome is recorded: the node may move on. */
  settled: boolean;
}

export interface ApprovalOutput {
  decision: 'approved' | 'rejected';
  decidedBy: 'users' | 'operator' | 'timeout';
  decisions: RecordedDecision[];
  comment: string | null;
  data: Record<string, unknown>;
  at: string;
}

const at = () => new Date().toISOString();

export class ApprovalDesk {
  private readonly waits = new Map<string, Wait>();
  /** Counts ignored operator signals, to key their events. */
  private ignored = 0;
  /** Counts the operator signals handled, which is their order in history: the key to their senders' identities. */
  private signalled = 0;

  constructor(
    private readonly record: (batch: Batch) => Promise<void>,
    private readonly workflowId: string,
  ) {
    setHandler(decideUpdate, (req) => this.decide(req), {
      validator: (req) => {
        try {
          checkDecision(this.waits.get(req.nodeId), req, at());
        } catch (err) {
          throw this.refusal(err);
        }
      },
    });
    setHandler(decisionSignal, (signal) => this.onSignal(signal));
  }

  pendingCount(): number {
    return [...this.waits.values()].filter((w) => !w.outcome).length;
  }

  view(): Record<string, { status: string; decisions: number }> {
    return Object.fromEntries([...this.waits.values()].map((w) => [w.nodeId, { status: w.outcome ?? 'pending', decisions: w.decisions.length }]));
  }

  /**
   * Opens the approval and waits for its outcome; throws NodeFailed when it times out with `onTimeout: fail`.
   * `carry` is the run machine's ledger still to record (the node's `waiting` row and event among it): it is
   * written with the approval's row, in the one write that opens it.
   */
  async wait(
    nodeId: string,
    data: ApprovalData,
    shown: { title: string; instructions: string | null; context: ApprovalContext },
    carry: Ledger,
  ): Promise<ApprovalOutput> {
    const wait: Wait = { id: uuid4(), nodeId, data, decisions: [], outcome: null, settled: false };
    this.waits.set(nodeId, wait);
    const requestedAt = Date.now();
    const expiresAt = data.timeoutSeconds ? new Date(requestedAt + data.timeoutSeconds * 1000).toISOString() : null;
    await this.record({
      nodes: carry.nodes,
      approvals: [
        {
          id: wait.id,
          nodeId,
          workflowId: this.workflowId,
          title: shown.title,
          instructions: shown.instructions,
          assigneeRole: data.assigneeRole ?? null,
          quorum: data.quorum ?? 1,
          form: data.form ?? null,
          context: shown.context,
          status: 'pending',
          decisions: [],
          requestedAt: new Date(requestedAt).toISOString(),
          expiresAt,
        },
      ],
      events: [
        ...carry.events,
        {
          type: 'approval.requested',
          nodeId,
          at: at(),
          data: { approvalId: wait.id, title: shown.title, assigneeRole: data.assigneeRole ?? null, quorum: data.quorum ?? 1, expiresAt },
          key: `approval:${nodeId}:requested`,
        },
      ],
      execution: { ...carry.execution, status: 'waiting' },
    });

    let reminders = 0;
    const deadline = data.timeoutSeconds ? requestedAt + data.timeoutSeconds * 1000 : Infinity;
    while (!wait.outcome) {
      const untilDeadline = deadline - Date.now();
      const step = Math.min(data.reminderSeconds ? data.reminderSeconds * 1000 : Infinity, untilDeadline);
      const decided = step === Infinity ? await condition(() => wait.outcome !== null).then(() => true) : await condition(() => wait.outcome !== null, Math.max(step, 1));
      if (decided || wait.outcome) break;
      if (Date.now() >= deadline) {
        await this.timeOut(wait);
        break;
      }
      reminders += 1;
      await this.record({ events: [{ type: 'approval.reminded', nodeId, at: at(), data: { reminder: reminders }, key: `approval:${nodeId}:reminded:${reminders}` }] });
    }
    await condition(() => wait.settled);
    const outcome = wait.outcome!;
    const last = wait.decisions[wait.decisions.length - 1];
    return {
      decision: outcome,
      decidedBy: last?.by === 'timeout' ? 'timeout' : last?.by === 'operator' ? 'operator' : 'users',
      decisions: wait.decisions,
      comment: last?.comment ?? null,
      data: Object.assign({}, ...wait.decisions.filter((d) => d.decision === 'approve').map((d) => d.data)),
      at: last?.at ?? at(),
    };
  }

  /** Approval rows to close when the run ends without them (cancelled, or failed elsewhere). */
  closeOpen(status: 'cancelled'): ApprovalUpdate[] {
    const open = [...this.waits.values()].filter((w) => !w.outcome);
    for (const w of open) w.outcome = 'rejected';
    return open.map((w) => ({ id: w.id, nodeId: w.nodeId, status, decidedAt: at() }));
  }

  private refusal(err: unknown): Error {
    if (err instanceof DecisionRefused) {
      return ApplicationFailure.create({ type: err.code, message: err.message, nonRetryable: true, details: err.details === undefined ? [] : [err.details] });
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  private async decide(req: DecideRequest): Promise<ApprovalDecisionResult> {
    const wait = this.waits.get(req.nodeId);
    let decision: RecordedDecision;
    try {
      decision = checkDecision(wait, req, at());
    } catch (err) {
      throw this.refusal(err);
    }
    return this.apply(wait!, decision);
  }

  private async onSignal(signal: DecisionSignal): Promise<void> {
    const signalIndex = this.signalled++;
    // Temporal's word for who sent it, beside the name the payload claims (anyone may type any name).
    const identity = patched(OPERATOR_IDENTITY_PATCH) ? await this.senderOf(signalIndex) : undefined;
    const req: DecideRequest = {
      ...signal,
      actor: { kind: 'operator', ...(signal?.operator ? { name: String(signal.operator).slice(0, 200) } : {}), ...(identity !== undefined ? { identity } : {}) },
    };
    const wait = this.waits.get(String(signal?.nodeId));
    let decision: RecordedDecision;
    try {
      if (!signal || (signal.decision !== 'approve' && signal.decision !== 'reject')) {
        throw new DecisionRefused('UNKNOWN_APPROVAL', 'a decision signal needs {nodeId, decision: "approve"|"reject"}');
      }
      decision = checkDecision(wait, req, at());
    } catch (err) {
      const code = err instanceof DecisionRefused ? err.code : 'INVALID';
      const n = this.ignored++;
      await this.record({
        events: [
          {
            type: 'approval.ignored',
            ...(wait ? { nodeId: wait.nodeId } : {}),
            at: at(),
            data: { code, reason: err instanceof Error ? err.message : String(err), by: 'operator', ...(identity !== undefined ? { identity } : {}) },
            key: `approval:ignored:${n}`,
          },
        ],
      });
      return;
    }
    await this.apply(wait!, decision);
  }

  private async senderOf(signalIndex: number): Promise<string | null> {
    try {
      return await operatorSignalIdentity({ signalIndex });
    } catch {
      return null;
    }
  }

  /** Records a valid decision; the outcome is set before any await, so the next validator sees it. */
  private async apply(wait: Wait, decision: RecordedDecision): Promise<ApprovalDecisionResult> {
    wait.decisions.push(decision);
    const outcome = approvalOutcome(wait.data, wait.decisions);
    if (outcome) wait.outcome = outcome;
    await this.record({
      approvals: [{ id: wait.id, nodeId: wait.nodeId, decisions: wait.decisions, status: outcome ?? 'pending', ...(outcome ? { decidedAt: decision.at } : {}) }],
      events: [
        {
          type: 'approval.decided',
          nodeId: wait.nodeId,
          at: decision.at,
          data: {
            decision: decision.decision,
            by: decision.by,
            userId: decision.userId,
            email: decision.email,
            name: decision.name,
            ...(decision.identity !== undefined ? { identity: decision.identity } : {}),
            comment: decision.comment,
            outcome,
            count: wait.decisions.length,
          },
          key: `approval:${wait.nodeId}:decided:${wait.decisions.length}`,
        },
      ],
      ...(outcome && this.pendingCount() === 0 ? { execution: { status: 'running' as const } } : {}),
    });
    if (outcome) wait.settled = true;
    return { nodeId: wait.nodeId, status: outcome ?? 'pending', decisions: wait.decisions };
  }

  private async timeOut(wait: Wait): Promise<void> {
    const onTimeout = wait.data.onTimeout ?? 'reject';
    const timedOut: RecordedDecision = { decision: onTimeout === 'approve' ? 'approve' : 'reject', comment: null, data: {}, at: at(), by: 'timeout', userId: null, email: null, name: null };
    wait.outcome = onTimeout === 'approve' ? 'approved' : 'rejected';
    if (onTimeout !== 'fail') wait.decisions.push(timedOut);
    await this.record({
      approvals: [{ id: wait.id, nodeId: wait.nodeId, status: 'timed_out', decisions: wait.decisions, decidedAt: timedOut.at }],
      events: [{ type: 'approval.timed_out', nodeId: wait.nodeId, at: timedOut.at, data: { onTimeout }, key: `approval:${wait.nodeId}:timed_out` }],
      ...(this.pendingCount() === 0 && onTimeout !== 'fail' ? { execution: { status: 'running' as const } } : {}),
    });
    wait.settled = true;
    if (onTimeout === 'fail') {
      throw new NodeFailed(wait.nodeId, 'APPROVAL_TIMED_OUT', `approval ${wait.nodeId} was not decided within ${wait.data.timeoutSeconds} s`);
    }
  }
}
