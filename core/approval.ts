// The rules of an approval decision, shared by the workflow's `decide` update validator (the source of
// truth) and the API: who may decide, what a decision carries, how form data is checked, when a quorum is met.
import { z } from 'zod';
import type { ApprovalData } from './graph';

export const DECIDER_ROLES = ['owner', 'admin', 'editor', 'viewer'] as const;
export type DeciderRole = (typeof DECIDER_ROLES)[number];
const RANK: Record<DeciderRole, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

export const decisionBodySchema = z.object({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(5000).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type DecisionBody = z.infer<typeof decisionBodySchema>;

/** Who decides: a user (through the API or the browser) or an operator (Temporal UI/CLI signal). */
export interface DecisionActor {
  kind: 'user' | 'operator' | 'timeout';
  userId?: string;
  email?: string;
  role?: DeciderRole;
  /** For an API key: the key's id. */
  apiKeyId?: string;
  /** Free text for operators (who they are, from the signal payload). */
  name?: string;
  /** For an operator: the identity Temporal recorded for the signal's sender (its client's `identity`; null: none recorded). */
  identity?: string | null;
}

export interface DecideRequest extends DecisionBody {
  nodeId: string;
  actor: DecisionActor;
}

/** The `decision` signal's payload: the same decision, sent by an operator from the Temporal UI or CLI. */
export interface DecisionSignal extends DecisionBody {
  nodeId: string;
  operator?: string;
}

export interface RecordedDecision {
  decision: 'approve' | 'reject';
  comment: string | null;
  data: Record<string, unknown>;
  at: string;
  by: DecisionActor['kind'];
  userId: string | null;
  email: string | null;
  name: string | null;
  /** An operator's decision: who sent the signal, as Temporal recorded it (absent on older runs). */
  identity?: string | null;
}

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'timed_out', 'cancelled'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
/** Every status but `pending`: the inbox's "decided" filter. */
export const DECIDED_APPROVAL_STATUSES: readonly ApprovalStatus[] = APPROVAL_STATUSES.filter((s) => s !== 'pending');

/** What an approver sees of the run: its inputs and the outputs of the nodes that ran before the approval. */
export interface ApprovalContext {
  inputs: Record<string, unknown>;
  nodes: Record<string, unknown>;
  /** Nodes whose outputs were left out to keep the approval record small (APPROVAL_CONTEXT_NODES_MAX_BYTES). */
  omittedNodes?: string[];
}

/** How much of the run's node outputs an approval record carries as its context (the rest is named in `omittedNodes`). */
export const APPROVAL_CONTEXT_NODES_MAX_BYTES = 256 * 1024;

/** Why a decision is refused; each maps to one HTTP status in the API. */
export const DECISION_REFUSALS = {
  UNKNOWN_APPROVAL: 404,
  NOT_WAITING: 409,
  ALREADY_DECIDED: 409,
  ALREADY_DECIDED_BY_YOU: 409,
  FORBIDDEN: 403,
  INVALID_FORM: 422,
} as const;
export type DecisionRefusal = keyof typeof DECISION_REFUSALS;

export class DecisionRefused extends Error {
  constructor(
    readonly code: DecisionRefusal,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DecisionRefused';
  }
}

/** Editors and above decide; a node that names a role needs that role or a higher one. Viewers never decide. */
export function mayDecide(role: DeciderRole, assigneeRole: ApprovalData['assigneeRole']): boolean {
  if (role === 'viewer') return false;
  return RANK[role] >= RANK[assigneeRole ?? 'editor'];
}

export type FormCheck = { ok: true; values: Record<string, unknown> } | { ok: false; problems: { field: string; message: string }[] };

/** Checks form data against the node's form: known fields only, types, required, enum and bounds; defaults filled in. */
export function checkApprovalForm(form: ApprovalData['form'], data: Record<string, unknown> | undefined): FormCheck {
  const fields = form ?? {};
  const given = data ?? {};
  const problems: { field: string; message: string }[] = [];
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    if (!Object.prototype.hasOwnProperty.call(fields, key)) problems.push({ field: key, message: 'not a field of this approval form' });
  }
  for (const [name, field] of Object.entries(fields)) {
    const raw = Object.prototype.hasOwnProperty.call(given, name) ? given[name] : field.default;
    if (raw === undefined || raw === null || raw === '') {
      if (field.required) problems.push({ field: name, message: 'is required' });
      continue;
    }
    if (field.type === 'number' && (typeof raw !== 'number' || !Number.isFinite(raw))) {
      problems.push({ field: name, message: 'must be a number' });
      continue;
    }
    if (field.type === 'boolean' && typeof raw !== 'boolean') {
      problems.push({ field: name, message: 'must be true or false' });
      continue;
    }
    if (field.type === 'string' && typeof raw !== 'string') {
      problems.push({ field: name, message: 'must be text' });
      continue;
    }
    if (typeof raw === 'string' && field.maxLength !== undefined && raw.length > field.maxLength) {
      problems.push({ field: name, message: `must be at most ${field.maxLength} characters` });
      continue;
    }
    if (typeof raw === 'number' && ((field.min !== undefined && raw < field.min) || (field.max !== undefined && raw > field.max))) {
      problems.push({ field: name, message: `must be between ${field.min ?? '-∞'} and ${field.max ?? '∞'}` });
      continue;
    }
    if (field.enum && !field.enum.includes(raw as string | number)) {
      problems.push({ field: name, message: `must be one of ${field.enum.map((v) => JSON.stringify(v)).join(', ')}` });
      continue;
    }
    values[name] = raw;
  }
  return problems.length ? { ok: false, problems } : { ok: true, values };
}

export interface ApprovalWaitState {
  data: ApprovalData;
  decisions: RecordedDecision[];
  /** Set once the outcome is known (before it is recorded), so later decisions are refused. */
  outcome: 'approved' | 'rejected' | null;
}

/**
 * Validates a decision against an approval's state and returns it as it will be recorded; throws
 * DecisionRefused otherwise. `at` comes from the caller (workflow time inside the workflow).
 */
export function checkDecision(state: ApprovalWaitState | undefined, req: DecideRequest, at: string): RecordedDecision {
  if (!state) throw new DecisionRefused('UNKNOWN_APPROVAL', `node ${req.nodeId} is not an approval of this run`);
  if (state.outcome) {
    throw new DecisionRefused('ALREADY_DECIDED', `approval ${req.nodeId} is already ${state.outcome}`, { first: state.decisions[0] ?? null, outcome: state.outcome });
  }
  const { actor } = req;
  if (actor.kind === 'user') {
    if (!actor.role || !mayDecide(actor.role, state.data.assigneeRole)) {
      throw new DecisionRefused('FORBIDDEN', `deciding this approval needs the ${state.data.assigneeRole ?? 'editor'} role or higher`);
    }
    const mine = state.decisions.find((d) => d.by === 'user' && d.userId === actor.userId);
    if (mine) throw new DecisionRefused('ALREADY_DECIDED_BY_YOU', 'you have already decided this approval; another user must add the next approval', { first: mine });
  }
  const form = checkApprovalForm(state.data.form, req.decision === 'approve' ? req.data : undefined);
  if (req.decision === 'approve' && !form.ok) throw new DecisionRefused('INVALID_FORM', 'the form data is invalid', { problems: form.problems });
  return {
    decision: req.decision,
    comment: req.comment ?? null,
    data: form.ok ? form.values : {},
    at,
    by: actor.kind,
    userId: actor.userId ?? null,
    email: actor.email ?? null,
    name: actor.name ?? null,
    ...(actor.kind === 'operator' && actor.identity !== undefined ? { identity: actor.identity } : {}),
  };
}

/** One rejection rejects; `quorum` approvals from distinct deciders approve. */
export function approvalOutcome(data: ApprovalData, decisions: RecordedDecision[]): 'approved' | 'rejected' | null {
  if (decisions.some((d) => d.decision === 'reject')) return 'rejected';
  return decisions.filter((d) => d.decision === 'approve').length >= (data.quorum ?? 1) ? 'approved' : null;
}
