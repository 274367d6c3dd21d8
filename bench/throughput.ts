// Completed runs per second of the README canvas (trigger → echo agent → output) at 8 closed-loop clients
// against the stack's worker, beside a hand-written 1-activity workflow on the same dev server, and the
// README canvas's POST → succeeded p50 at one client. Prints one summary line.
// Usage: TEMPORAL_ADDRESS=127.0.0.1:7233 BASE_URL=http://127.0.0.1:3000 npx tsx bench/throughput.ts [runs=160] [clients=8] [serialRuns=30]
import { readmeGraph } from './support/graphs';
import { startBareWorker, temporalClient } from './support/bare-worker';
import { awaitSucceeded, closedLoop, loadAverage, percentile, registerTenant, saveWorkflow, startRun } from './support/tessera-api';

const RUNS = Number(process.argv[2] ?? 160);
const CLIENTS = Number(process.argv[3] ?? 8);
const SERIAL_RUNS = Number(process.argv[4] ?? 30);

async function main(): Promise<void> {
  const client = await temporalClient();
  const token = await registerTenant();
  const workflowId = await saveWorkflow(token, 'throughput bench', readmeGraph());
  const bare = await startBareWorker(client);
  const tesseraRun = async () => awaitSucceeded(client, token, await startRun(token, workflowId, { topic: 'otters' }));
  await tesseraRun();
  await bare.runChain(1);

  const serial = await closedLoop(SERIAL_RUNS, 1, tesseraRun);
  let t0 = performance.now();
  await closedLoop(RUNS, CLIENTS, tesseraRun);
  const tesseraRate = RUNS / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  await closedLoop(RUNS, CLIENTS, () => bare.runChain(1));
  const bareRate = RUNS / ((performance.now() - t0) / 1000);
  await bare.stop();

  console.log(
    `throughput: README canvas at ${CLIENTS} clients ${tesseraRate.toFixed(1)} runs/s, bare 1-activity workflow ${bareRate.toFixed(1)} runs/s, ` +
      `ratio ${(tesseraRate / bareRate).toFixed(2)}x; POST → succeeded at 1 client p50 ${percentile(serial, 50).toFixed(0)} ms ` +
      `(p95 ${percentile(serial, 95).toFixed(0)} ms, ${SERIAL_RUNS} runs); load ${loadAverage()}`,
  );
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
