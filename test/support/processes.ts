// Runs Tessera's real process entry points (worker/main.ts, server/main.ts) as child processes, so tests
// can kill them with SIGKILL as a crash would.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowBundleOption } from '@temporalio/worker';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET, TEST_REDIS_URL, type TestStack } from './stack';
import { testTemporalAddress } from './temporal';

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = { worker: 'worker/main.ts', api: 'server/main.ts' } as const;
const READY = { worker: 'worker started', api: 'API listening' } as const;

export interface TesseraProcess {
  child: ChildProcess;
  ready: Promise<void>;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const running: ChildProcess[] = [];

/** Writes a workflow bundle to a file a worker process can load through TESSERA_WORKFLOW_BUNDLE. */
export function writeWorkflowBundle(bundle: WorkflowBundleOption, file: string): string {
  writeFileSync(file, (bundle as { code: string }).code);
  return file;
}

/** The environment that points a Tessera process at a test stack's database, Redis, Temporal and task queue. */
export function stackEnv(stack: TestStack, bundlePath: string): Record<string, string> {
  return {
    DATABASE_URL: stack.db.url,
    REDIS_URL: TEST_REDIS_URL,
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    TESSERA_WORKFLOW_BUNDLE: bundlePath,
    // A free port each: several workers of a test (and of tests side by side) never clash on the default 9464.
    WORKER_METRICS_PORT: '0',
  };
}

/** Where a started worker process serves its Prometheus metrics (it logs the port it took). */
export function workerMetricsUrl(worker: TesseraProcess): string {
  for (const line of worker.output().split('\n')) {
    if (!line.includes('"worker metrics listening"')) continue;
    const { port } = JSON.parse(line) as { port: number };
    return `http://127.0.0.1:${port}/metrics`;
  }
  throw new Error(`the worker logged no metrics port:\n${worker.output()}`);
}

export function spawnTessera(kind: keyof typeof ENTRY, env: Record<string, string>): TesseraProcess {
  let output = '';
  // `node --import tsx` keeps the program in this one process, so SIGKILL really kills it
  // (the tsx CLI would run it as a grandchild that survives).
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, ENTRY[kind])], {
    cwd: ROOT,
    // The stack's secrets, as in-process test stacks use; a test may unset them with ''.
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', JWT_SECRET: TEST_JWT_SECRET, ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes(READY[kind])) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code} before it was ready:\n${output}`)));
  });
  return {
    child,
    ready,
    output: () => output,
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

/** For afterAll: no child outlives its test file. */
export function killAllTessera(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
