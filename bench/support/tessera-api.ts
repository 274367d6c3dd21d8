// A bench's view of a running Tessera stack: register a tenant, save a canvas, start a run and wait for it to
// end. A run's end is awaited on its Temporal workflow (a long poll, no API polling that would load the API or
// Temporal while the run is measured), then one GET confirms the stored row says the same.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import type { Client } from '@temporalio/client';
import { TERMINAL_EXECUTION_STATUSES, type ExecutionStatus } from '../../core/events';

export const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:3000';

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

export async function call(method: string, path: string, token?: string, body?: unknown): Promise<ApiAnswer> {
  const res = await fetch(`${BASE_URL}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A new tenant's owner token (benches never share a tenant with anything else). */
export async function registerTenant(): Promise<string> {
  const reg = await call('POST', '/auth/register', undefined, {
    tenantName: `Bench ${randomBytes(3).toString('hex')}`,
    email: `bench-${randomBytes(4).toString('hex')}@example.com`,
    password: 'benchmark password',
  });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  return reg.body.accessToken as string;
}

export async function saveWorkflow(token: string, name: string, graph: unknown): Promise<string> {
  const wf = await call('POST', '/workflows', token, { name, graph });
  if (wf.status !== 201) throw new Error(`save: ${wf.status} ${JSON.stringify(wf.body)}`);
  return wf.body.id as string;
}

export interface StartedRun {
  id: string;
  temporalWorkflowId: string;
}

export async function startRun(token: string, workflowId: string, inputs: Record<string, unknown> = {}): Promise<StartedRun> {
  const started = await call('POST', `/workflows/${workflowId}/executions`, token, { inputs });
  if (started.status !== 202) throw new Error(`start: ${started.status} ${JSON.stringify(started.body)}`);
  const temporal = started.body.temporal as { workflowId: string };
  return { id: started.body.id as string, temporalWorkflowId: temporal.workflowId };
}

/** Temporal's HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT: a long poll that answers with the close event only. */
const CLOSE_EVENT = 2;
/** gRPC's NOT_FOUND status code. */
const GRPC_NOT_FOUND = 5;

/**
 * Waits for the run's workflow to close (a long poll for its close event: its result is encrypted with the
 * tenant's key, which a bench does not hold), then checks that the stored run succeeded.
 */
export async function awaitSucceeded(client: Client, token: string, run: StartedRun): Promise<void> {
  for (;;) {
    const answer = await client.workflowService
      .getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId: run.temporalWorkflowId },
        waitNewEvent: true,
        historyEventFilterType: CLOSE_EVENT,
      })
      .catch((err: unknown) => {
        // A run admitted by another request's decision may start a moment after its POST answered.
        if ((err as { code?: number }).code === GRPC_NOT_FOUND) return null;
        throw err;
      });
    if (answer?.history?.events?.length) break;
    if (!answer) await new Promise((r) => setTimeout(r, 20));
  }
  const e = await call('GET', `/executions/${run.id}`, token);
  if (e.body.status !== 'succeeded') throw new Error(`run ${run.id} ended ${String(e.body.status)}: ${JSON.stringify(e.body.error)}`);
}

/** Reads the run every `intervalMs` until it has succeeded; any other end throws with its error. */
export async function pollUntilSucceeded(token: string, executionId: string, intervalMs: number): Promise<void> {
  for (;;) {
    const e = await call('GET', `/executions/${executionId}`, token);
    if (e.body.status === 'succeeded') return;
    if (TERMINAL_EXECUTION_STATUSES.includes(e.body.status as ExecutionStatus)) {
      throw new Error(`run ${executionId} ended ${String(e.body.status)}: ${JSON.stringify(e.body.error)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Runs `total` jobs with at most `concurrency` in flight; returns each job's duration in ms. */
export async function closedLoop(total: number, concurrency: number, job: (i: number) => Promise<void>): Promise<number[]> {
  const durations: number[] = [];
  let next = 0;
  async function client(): Promise<void> {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await job(i);
      durations.push(performance.now() - t0);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, client));
  return durations;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export function loadAverage(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' ');
}
