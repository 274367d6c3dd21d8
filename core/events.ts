// Execution events and statuses (DESIGN.md §3–4): what is stored in `execution_events`, published on Redis
// and relayed over the WebSocket, plus the socket's message shapes.
import { z } from 'zod';

export const EXECUTION_STATUSES = ['pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export const TERMINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out'];

export const NODE_STATUSES = ['pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];
/** A node in one of these has not finished; a run that ends settles them. */
export const OPEN_NODE_STATUSES: readonly NodeStatus[] = ['pending', 'running', 'waiting'];
/** A node in one of these has finished for good; late writers may not move it back (the complement of the open ones). */
export const TERMINAL_NODE_STATUSES: readonly NodeStatus[] = ['succeeded', 'skipped', 'failed', 'cancelled'];

export const EVENT_TYPES = [
  'execution.started',
  'execution.succeeded',
  'execution.failed',
  'execution.cancelled',
  'execution.timed_out',
  'node.started',
  'node.succeeded',
  'node.failed',
  'node.skipped',
  'node.retrying',
  'node.waiting',
  'node.cancelled',
  // A tool-using agent's steps (core/tool-loop.ts): each model call that answered, each tool call.
  'model_call.succeeded',
  'tool_call.started',
  'tool_call.succeeded',
  'tool_call.failed',
  // A child execution started by a subflow node or a workflow tool's call (core/child-run.ts).
  'subflow.started',
  // A map node's done/failed/total while its items run (core/map-run.ts), at most every few seconds.
  'map.progress',
  // A conversation's turns (core/conversation.ts): each spoken turn, and each speaker a model chose.
  'conversation.turn',
  'conversation.speaker_selected',
  'approval.requested',
  'approval.reminded',
  'approval.decided',
  'approval.timed_out',
  'approval.ignored',
  'export.started',
  'export.rendered',
  'export.built',
  'export.checked',
  'export.stored',
  'export.succeeded',
  'export.failed',
] as const;
export type ExecutionEventType = (typeof EVENT_TYPES)[number];
/** The events that end a run, one per terminal status. */
export const RUN_END_EVENTS = ['execution.succeeded', 'execution.failed', 'execution.cancelled', 'execution.timed_out'] as const satisfies readonly ExecutionEventType[];

export const executionEventSchema = z.object({
  seq: z.number().int().positive(),
  executionId: z.string(),
  type: z.enum(EVENT_TYPES),
  nodeId: z.string().optional(),
  at: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type ExecutionEvent = z.infer<typeof executionEventSchema>;

/** An event before it is stored: the store assigns `seq`. `key` makes an append idempotent across activity retries. */
export interface NewExecutionEvent {
  type: ExecutionEventType;
  nodeId?: string;
  at: string;
  data?: Record<string, unknown>;
  key?: string;
}

export const wsClientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), executionId: z.string().min(1).max(100), afterSeq: z.number().int().min(0).default(0) }),
  z.object({ type: z.literal('unsubscribe'), executionId: z.string().min(1).max(100) }),
  z.object({ type: z.literal('ping') }),
  // Every approval event of the caller's tenant, across runs: what keeps an inbox badge live.
  z.object({ type: z.literal('watch_approvals') }),
]);
export type WsClientMessage = z.infer<typeof wsClientMessageSchema>;

export type WsServerMessage =
  | { type: 'event'; event: ExecutionEvent }
  | { type: 'subscribed'; executionId: string; lastSeq: number }
  | { type: 'watching_approvals' }
  | { type: 'approval'; event: ExecutionEvent }
  | { type: 'unsubscribed'; executionId: string }
  | { type: 'pong' }
  // Streamed model text of a running agent (DESIGN §8): relayed from Redis, never stored, no seq. `attempt`
  // tells a retried attempt's text from the one before (a client starts the text afresh when it changes).
  | DeltaMessage
  | { type: 'error'; code: string; message: string; executionId?: string };

/** Streamed text of one model call (`round` of node `nodeId`, its `attempt`): a chunk to append. */
export const deltaMessageSchema = z.object({
  type: z.literal('delta'),
  executionId: z.string(),
  nodeId: z.string(),
  round: z.number().int().positive(),
  attempt: z.number().int().positive(),
  text: z.string(),
});
export type DeltaMessage = z.infer<typeof deltaMessageSchema>;

/**
 * The Redis channel of a run's deltas: apart from its events' channel and outside tenantExecutionPattern, so
 * neither the event stream nor the inbox feed ever parses one.
 */
export function deltaChannel(tenantId: string, executionId: string): string {
  return `tessera:${tenantId}:delta:${executionId}`;
}

export function executionChannel(tenantId: string, executionId: string): string {
  return `tessera:${tenantId}:execution:${executionId}`;
}

/** The Redis pattern of every execution channel of a tenant. Tenant ids are UUIDs: no glob characters. */
export function tenantExecutionPattern(tenantId: string): string {
  return `tessera:${tenantId}:execution:*`;
}

export function temporalWorkflowId(tenantId: string, executionId: string): string {
  return `tenant/${tenantId}/execution/${executionId}`;
}

export function tenantWorkflowIdPrefix(tenantId: string): string {
  return `tenant/${tenantId}/`;
}

/** Temporal ids of Tessera's own workflows and schedules (the retention sweep), under no tenant's prefix. */
export const SYSTEM_TEMPORAL_ID_PREFIX = 'system/';
