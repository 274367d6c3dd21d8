// Run latency of the 7-node echo canvas (fan-out of two turns, fan-in, a false condition branch), from the
// POST that starts it to the moment GET reports it succeeded, against a running stack (`npm start`).
// Usage: npx tsx bench/run-latency.ts [runs=20] (BASE_URL defaults to http://127.0.0.1:3000).
import { randomBytes } from 'node:crypto';
import { fanOutGraph } from '../test/fixtures/graphs';

const BASE = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
const RUNS = Number(process.argv[2] ?? 20);

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const reg = await call('POST', '/auth/register', undefined, { tenantName: `Bench ${randomBytes(3).toString('hex')}`, email: `bench-${randomBytes(4).toString('hex')}@example.com`, password: 'benchmark password' });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  const token = reg.body.accessToken as string;
  const wf = await call('POST', '/workflows', token, { name: 'bench', graph: fanOutGraph(0) });
  const latencies: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const started = await call('POST', `/workflows/${wf.body.id as string}/executions`, token, { inputs: { topic: `run ${i}` } });
    if (started.status !== 202) throw new Error(`start: ${started.status} ${JSON.stringify(started.body)}`);
    for (;;) {
      const e = await call('GET', `/executions/${started.body.id as string}`, token);
      if (e.body.status === 'succeeded') break;
      if (['failed', 'cancelled', 'timed_out'].includes(e.body.status as string)) throw new Error(`run ended ${String(e.body.status)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    latencies.push(performance.now() - t0);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  console.log(`7-node echo canvas, ${RUNS} runs one after another, POST to succeeded (polling every 10 ms):`);
  console.log(`  p50 ${percentile(sorted, 50).toFixed(0)} ms  p95 ${percentile(sorted, 95).toFixed(0)} ms  mean ${mean.toFixed(0)} ms  min ${sorted[0]!.toFixed(0)} ms  max ${sorted[sorted.length - 1]!.toFixed(0)} ms`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
