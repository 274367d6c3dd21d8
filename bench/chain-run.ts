// How long the largest canvas the API accepts (MAX_NODES, a chain of cheap transforms) takes to run where
// its code actually runs (the worker's evaluation threads, one local activity per node of the chain),
// against a running stack (`npm start`). Usage: npx tsx bench/chain-run.ts [nodes=MAX_NODES] [runs=1]
// (BASE_URL defaults to http://127.0.0.1:3000).
import { MAX_NODES } from '../core/graph';
import { transformChainGraph } from '../test/fixtures/limit-graphs';
import { call, pollUntilSucceeded, registerTenant } from './support/tessera-api';

const NODES = Number(process.argv[2] ?? MAX_NODES);
const RUNS = Number(process.argv[3] ?? 1);

async function main(): Promise<void> {
  const token = await registerTenant();
  const wf = await call('POST', '/workflows', token, { name: 'chain bench', graph: transformChainGraph(NODES) });
  if (wf.status !== 201) throw new Error(`save: ${wf.status} ${JSON.stringify(wf.body)}`);
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const started = await call('POST', `/workflows/${wf.body.id as string}/executions`, token, { inputs: {} });
    if (started.status !== 202) throw new Error(`start: ${started.status} ${JSON.stringify(started.body)}`);
    await pollUntilSucceeded(token, started.body.id as string, 200);
    const ms = performance.now() - t0;
    console.log(`${NODES}-node transform chain: POST to succeeded in ${(ms / 1000).toFixed(1)} s (${(ms / NODES).toFixed(1)} ms per node)`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
