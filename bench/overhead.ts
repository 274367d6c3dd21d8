// Tessera's cost over bare Temporal (issue 10): a chain of 20 echo agents (trigger → 20 agents → output),
// 40 runs, 8 at a time, against a hand-written workflow calling 20 no-op activities, 40 runs, 8 at a time, on
// the same dev server in the same invocation. Prints one summary line: both wall times, p50s and the ratio.
// Usage: TEMPORAL_ADDRESS=127.0.0.1:7233 BASE_URL=http://127.0.0.1:3000 npx tsx bench/overhead.ts [runs=40] [concurrency=8] [length=20]
import { echoChainGraph } from './support/graphs';
import { startBareWorker, temporalClient } from './support/bare-worker';
import { awaitSucceeded, closedLoop, loadAverage, percentile, registerTenant, saveWorkflow, startRun } from './support/tessera-api';

const RUNS = Number(process.argv[2] ?? 40);
const CONCURRENCY = Number(process.argv[3] ?? 8);
const LENGTH = Number(process.argv[4] ?? 20);

async function main(): Promise<void> {
  const client = await temporalClient();
  const token = await registerTenant();
  const workflowId = await saveWorkflow(token, 'overhead bench', echoChainGraph(LENGTH));
  const bare = await startBareWorker(client);
  // One warm-up run of each, so neither side pays for its first workflow bundle load.
  await awaitSucceeded(client, token, await startRun(token, workflowId));
  await bare.runChain(LENGTH);

  let t0 = performance.now();
  const tessera = await closedLoop(RUNS, CONCURRENCY, async () => awaitSucceeded(client, token, await startRun(token, workflowId)));
  const tesseraWall = performance.now() - t0;
  t0 = performance.now();
  const bareRuns = await closedLoop(RUNS, CONCURRENCY, () => bare.runChain(LENGTH));
  const bareWall = performance.now() - t0;
  await bare.stop();

  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `overhead: ${LENGTH}-agent echo chain, ${RUNS} runs, ${CONCURRENCY} at a time: Tessera wall ${s(tesseraWall)} (p50 ${s(percentile(tessera, 50))}), ` +
      `bare ${LENGTH}-activity workflow wall ${s(bareWall)} (p50 ${s(percentile(bareRuns, 50))}), ratio ${(tesseraWall / bareWall).toFixed(2)}x; load ${loadAverage()}`,
  );
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
