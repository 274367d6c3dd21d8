// API latency under load, measured from outside with autocannon against a running stack (`npm start`):
// GET /executions/:id of a finished README-canvas run at 50 concurrent connections, then
// POST /workflows/:id/executions (each starts a real run) at 10, then the floor of that POST: Temporal's own
// StartWorkflowExecution of a hand-written 1-activity workflow at 10 (TEMPORAL_ADDRESS, default
// 127.0.0.1:7233). Prints one summary line each.
// Usage: npx tsx bench/api-latency.ts [seconds=10] (BASE_URL defaults to http://127.0.0.1:3000).
// Start the stack with rate limits raised above the load (RATE_LIMIT_API_PER_TENANT=100000000/60,
// RATE_LIMIT_RUN_STARTS_PER_TENANT=100000000/60): the limiter still runs, it just never answers 429.
import autocannon from 'autocannon';
import { startBareWorker, temporalClient } from './support/bare-worker';
import { readmeGraph } from './support/graphs';
import { BASE_URL, loadAverage, percentile, pollUntilSucceeded, registerTenant, saveWorkflow, startRun } from './support/tessera-api';

const SECONDS = Number(process.argv[2] ?? 10);

interface Figures {
  requests: number;
  non2xx: number;
  latencies: number[];
  seconds: number;
}

async function load(opts: { path: string; method: 'GET' | 'POST'; connections: number; token: string; body?: string }): Promise<Figures> {
  const latencies: number[] = [];
  let non2xx = 0;
  const t0 = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${BASE_URL}/api/v1${opts.path}`,
        method: opts.method,
        connections: opts.connections,
        duration: SECONDS,
        headers: { authorization: `Bearer ${opts.token}`, ...(opts.body ? { 'content-type': 'application/json' } : {}) },
        ...(opts.body ? { body: opts.body } : {}),
      },
      (err, res) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
    // autocannon's summary has p97.5 but no p95: every response time is kept here instead.
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      if (statusCode < 200 || statusCode > 299) non2xx++;
    });
  });
  return { requests: latencies.length, non2xx: non2xx + result.errors + result.timeouts, latencies, seconds: (performance.now() - t0) / 1000 };
}

function line(name: string, f: Figures): string {
  const ms = (p: number) => `${percentile(f.latencies, p).toFixed(1)} ms`;
  return `${name}: ${(f.requests / f.seconds).toFixed(0)} req/s p50 ${ms(50)} p95 ${ms(95)} p99 ${ms(99)} (${f.requests} requests, ${f.non2xx} not 2xx, load ${loadAverage()})`;
}

async function main(): Promise<void> {
  const token = await registerTenant();
  const workflowId = await saveWorkflow(token, 'api latency', readmeGraph());
  const run = await startRun(token, workflowId, { topic: 'otters' });
  await pollUntilSucceeded(token, run.id, 50);

  const get = await load({ path: `/executions/${run.id}`, method: 'GET', connections: 50, token });
  console.log(line(`GET /executions/:id (finished run) c=50 ${SECONDS}s`, get));
  const post = await load({ path: `/workflows/${workflowId}/executions`, method: 'POST', connections: 10, token, body: JSON.stringify({ inputs: { topic: 'otters' } }) });
  console.log(line(`POST /workflows/:id/executions c=10 ${SECONDS}s`, post));

  const client = await temporalClient();
  const bare = await startBareWorker(client);
  const starts: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (performance.now() - t0 < SECONDS * 1000) {
        const t = performance.now();
        await bare.startChain(1);
        starts.push(performance.now() - t);
      }
    }),
  );
  const startSeconds = (performance.now() - t0) / 1000;
  await bare.stop();
  await client.connection.close();
  console.log(line(`Temporal start alone (bare workflow, the floor of the POST) c=10 ${SECONDS}s`, { requests: starts.length, non2xx: 0, latencies: starts, seconds: startSeconds }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
