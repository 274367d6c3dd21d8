// Run latency of the 7-node echo canvas (fan-out of two turns, fan-in, a false condition branch), from the
// POST that starts it to the moment GET reports it succeeded, against a running stack (`npm start`).
// Usage: npx tsx bench/run-latency.ts [runs=20] (BASE_URL defaults to http://127.0.0.1:3000).
import { fanOutGraph } from '../test/fixtures/graphs';
import { percentile, pollUntilSucceeded, registerTenant, saveWorkflow, startRun } from './support/tessera-api';

const RUNS = Number(process.argv[2] ?? 20);

async function main(): Promise<void> {
  const token = await registerTenant();
  const workflowId = await saveWorkflow(token, 'bench', fanOutGraph(0));
  const latencies: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const run = await startRun(token, workflowId, { topic: `run ${i}` });
    await pollUntilSucceeded(token, run.id, 10);
    latencies.push(performance.now() - t0);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  console.log(`7-node echo canvas, ${RUNS} runs one after another, POST to succeeded (polling every 10 ms):`);
  console.log(`  p50 ${percentile(latencies, 50).toFixed(0)} ms  p95 ${percentile(latencies, 95).toFixed(0)} ms  mean ${mean.toFixed(0)} ms  min ${sorted[0]!.toFixed(0)} ms  max ${sorted[sorted.length - 1]!.toFixed(0)} ms`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
