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

/**
 * How many of the workflow's runs are stored as waiting (pages of 100). Ids are counted once and a page that
 * brings none new ends the count: runs created in the same millisecond can come back on the next page.
 */
async function countWaiting(token: string, workflowId: string): Promise<number> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await call('GET', `/executions?workflowId=${workflowId}&status=waiting&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
    const before = seen.size;
    for (const item of page.body.items as { id: string }[]) seen.add(item.id);
    cursor = seen.size > before ? ((page.body.nextCursor as string | null) ?? undefined) : undefined;
  } while (cursor);
  return seen.size;
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
  while ((await countWaiting(token, workflowId)) < RUNS) await new Promise((r) => setTimeout(r, 1000));
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
