// Webhooks of a workflow (DESIGN.md §8 "Triggers and re-runs"): a hook URL and a secret shown once; a
// delivery is a JSON body (the run's inputs) signed with HMAC-SHA256 of the raw body under that secret. A
// delivery id makes redelivery answer the same execution (the executions' idempotency key, scoped to the
// hook). The hook id alone names the tenant, through public.webhook_routes.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError, NotFound, Unauthorized } from '../../core/errors';
import { TERMINAL_EXECUTION_STATUSES, type ExecutionStatus } from '../../core/events';
import { JSON_MAX_DEPTH, jsonTooDeep, nestsDeeperThan } from '../../core/limits';
import type { TenantScope, VaultKeys, WorkflowRepository } from '../../db';
import { WebhookRepository, WebhookRouteRepository, type WebhookRecord } from '../../db/repositories/webhooks';
import type { RunClient } from '../temporal/run-client';
import type { ExecutionService } from './execution-service';
import { requireUuid } from './ids';

import type { WebhookView } from '../../core/api-views';

export type { WebhookView } from '../../core/api-views';

export interface WebhookDelivery {
  hookId: string;
  rawBody: Buffer;
  signature: string | undefined;
  deliveryId: string | undefined;
  /** How long to wait for the run to end before answering (0: answer once it started). */
  waitMs: number;
}

export interface DeliveryAnswer {
  created: boolean;
  executionId: string;
  status: ExecutionStatus;
  /** Present when the run ended within the wait. */
  outputs?: Record<string, unknown> | null;
}

export interface WebhookServiceDeps {
  scope: TenantScope;
  routes: WebhookRouteRepository;
  workflows: WorkflowRepository;
  executions: ExecutionService;
  runs: RunClient;
  encryptionKey: VaultKeys;
  /** Counts a delivery against the hook's rate limit (and the tenant's run starts); throws when over. */
  countDelivery(hookId: string, tenantId: string): Promise<void>;
  /** Records a refused signature in the tenant's audit log. */
  auditRejected(tenantId: string, hookId: string, reason: string): Promise<void>;
}

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;
const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;

/** Whether `header` is `sha256=<hex HMAC-SHA256 of rawBody under secret>`, compared in constant time. */
export function signatureMatches(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  const m = header ? SIGNATURE.exec(header.trim()) : null;
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
}

export function hookUrl(base: string, id: string): string {
  return `${base.replace(/\/+$/, '')}/hooks/${id}`;
}

export function createWebhookService(deps: WebhookServiceDeps) {
  const { scope } = deps;
  const hooks = new WebhookRepository(scope, deps.encryptionKey);

  const view = (h: WebhookRecord, base: string): WebhookView => ({ id: h.id, workflowId: h.workflowId, url: hookUrl(base, h.id), createdAt: h.createdAt.toISOString() });

  async function workflowOf(workflowId: string) {
    const w = await deps.workflows.find(requireUuid(workflowId, 'workflow'));
    if (!w) throw new NotFound(`workflow ${workflowId} not found`);
    return w;
  }

  function inputsOf(rawBody: Buffer): Record<string, unknown> {
    if (rawBody.length === 0) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new AppError('MALFORMED_JSON', 400, 'the request body is not valid JSON');
    }
    if (nestsDeeperThan(parsed, JSON_MAX_DEPTH)) throw jsonTooDeep();
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new AppError('INPUTS_INVALID', 422, "the body must be a JSON object: the run's inputs");
    return parsed as Record<string, unknown>;
  }

  return {
    async list(tenantId: string, workflowId: string, base: string): Promise<WebhookView[]> {
      return scope.run(tenantId, async () => (await hooks.listOf((await workflowOf(workflowId)).id)).map((h) => view(h, base)));
    },

    /** Runs inside the caller's open tenant scope. The secret is in this answer only. */
    async create(tenantId: string, workflowId: string, createdBy: string | null, base: string): Promise<WebhookView & { secret: string }> {
      const w = await workflowOf(workflowId);
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      const h = await hooks.create({ id: randomUUID(), workflowId: w.id, secret, createdBy });
      await deps.routes.add(h.id, tenantId);
      return { ...view(h, base), secret };
    },

    /** Runs inside the caller's open tenant scope. */
    async remove(id: string): Promise<WebhookRecord> {
      const hookId = requireUuid(id, 'webhook');
      const h = await hooks.get(hookId);
      if (!h || !(await hooks.remove(hookId))) throw new NotFound(`webhook ${id} not found`);
      await deps.routes.remove(hookId);
      return h;
    },

    /** The webhooks of a workflow being deleted: their rows and their public routes, so a delivery is a 404. */
    async removeAllOf(tenantId: string, workflowId: string): Promise<void> {
      const list = await scope.run(tenantId, () => hooks.listOf(workflowId));
      // Routes first: a deletion stopped between the two still finds the rows when it is repeated.
      for (const h of list) await deps.routes.remove(h.id);
      await scope.run(tenantId, async () => {
        for (const h of list) await hooks.remove(h.id);
      });
    },

    /** A delivery to POST /hooks/:id: checked, then started (or answered from the first delivery of its id). */
    async deliver(d: WebhookDelivery): Promise<DeliveryAnswer> {
      const hookId = requireUuid(d.hookId, 'webhook');
      const tenantId = await deps.routes.tenantOf(hookId);
      if (!tenantId) throw new NotFound(`webhook ${d.hookId} not found`);
      await deps.countDelivery(hookId, tenantId);
      const hook = await scope.run(tenantId, () => hooks.reveal(hookId));
      if (!hook) throw new NotFound(`webhook ${d.hookId} not found`);
      if (!signatureMatches(hook.secret, d.rawBody, d.signature)) {
        const reason = d.signature ? 'the signature does not match the body' : 'the X-Tessera-Signature header is missing';
        await deps.auditRejected(tenantId, hookId, reason);
        throw new Unauthorized(`${reason} (expected X-Tessera-Signature: sha256=<hex HMAC-SHA256 of the raw body>)`);
      }
      if (d.deliveryId !== undefined && !DELIVERY_ID.test(d.deliveryId)) {
        throw new AppError('VALIDATION_FAILED', 400, 'X-Tessera-Delivery must be 1 to 200 printable ASCII characters', { header: 'X-Tessera-Delivery' });
      }
      const key = d.deliveryId !== undefined ? `webhook:${hookId}:${d.deliveryId}` : null;
      const { execution, created } = await deps.executions.start(tenantId, `webhook:${hookId}`, hook.workflowId, { inputs: inputsOf(d.rawBody) }, key, { type: 'webhook', webhookId: hookId });
      if (d.waitMs <= 0) return { created, executionId: execution.id, status: execution.status };
      let current = execution;
      if (!TERMINAL_EXECUTION_STATUSES.includes(current.status)) {
        await deps.runs.waitClosed(tenantId, execution.id, d.waitMs);
        current = await deps.executions.get(tenantId, execution.id, { refresh: true });
      }
      return TERMINAL_EXECUTION_STATUSES.includes(current.status)
        ? { created, executionId: current.id, status: current.status, outputs: current.outputs }
        : { created, executionId: current.id, status: current.status };
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
