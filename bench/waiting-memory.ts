// The worker's resident memory with 1,000 runs waiting on approvals (trigger → approval → output), read from
// /proc/<WORKER_PID>/status before the runs start and once every run is waiting. Prints one summary line; the
// runs are cancelled at the end. Usage (Linux): WORKER_PID=<pid of the stack's worker> BASE_URL=http://127.0.0.1:3000
// npx tsx bench/waiting-memory.ts [runs=1000]
import { readFileSync } from 'node:fs';
import { approvalWaitGraph } from './support/graphs';
import { call, closedLoop, loadAverage, registerTenant, saveWorkflow, startRun } from './support/tessera-api';

const RUNS = Number(process.argv[2] ?? 1000);
const WORKER_PID = Number(process.env.WORKER_PID);

function rssMiB(): number {
  const line = readFileSync(`/proc/${WORKER_PID}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  if (!line) throw new Error(`no VmRSS for process ${WORKER_PID}`);
  return Number(line.split(/\s+/)[1]) / 1024;
}

/** Waits until every run reads `waiting` (GET each run not seen waiting yet, 10 at a time, once a second). */
async function untilAllWaiting(token: string, runs: string[]): Promise<void> {
  let open = [...runs];
  while (open.length) {
    const still: string[] = [];
    await closedLoop(open.length, 10, async (i) => {
      const e = await call('GET', `/executions/${open[i]!}`, token);
      if (e.body.status !== 'waiting') still.push(open[i]!);
    });
    open = still;
    if (open.length) await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main(): Promise<void> {
  if (!Number.isInteger(WORKER_PID) || WORKER_PID <= 0) throw new Error('set WORKER_PID to the pid of the stack\'s worker process');
  const token = await registerTenant();
  const workflowId = await saveWorkflow(token, 'waiting-memory bench', approvalWaitGraph());
  const before = rssMiB();
  const t0 = performance.now();
  const runs: string[] = [];
  await closedLoop(RUNS, 10, async () => {
    runs.push((await startRun(token, workflowId)).id);
  });
  await untilAllWaiting(token, runs);
  const waitingAfter = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 5000)); // let the worker settle (GC, cached workflows)
  const after = rssMiB();
  console.log(
    `waiting-memory: ${RUNS} runs waiting on approvals after ${waitingAfter.toFixed(0)} s: worker RSS ${after.toFixed(0)} MiB ` +
      `(${before.toFixed(0)} MiB before, ${(((after - before) * 1024) / RUNS).toFixed(0)} KiB per waiting run); load ${loadAverage()}`,
  );
  await closedLoop(runs.length, 10, async () => {
    await call('POST', `/executions/${runs.pop()!}/cancel`, token);
  });
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
