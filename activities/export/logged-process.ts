// Runs a build tool as a child process for an export activity: output kept as the step's log (bounded),
// a heartbeat every second so Temporal notices a dead worker, and the child killed when the activity is cancelled.
import { spawn } from 'node:child_process';
import { Context } from '@temporalio/activity';

/** The most of a step's output an export keeps: the end of a failing build is what explains it. */
export const MAX_LOG_CHARS = 64_000;

export interface ProcessResult {
  code: number | null;
  log: string;
}

export async function runLogged(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ProcessResult> {
  const ctx = activityContext();
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = `$ ${[command, ...args].join(' ')}\n`;
  const append = (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.length > MAX_LOG_CHARS * 2) log = log.slice(-MAX_LOG_CHARS);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const beat = setInterval(() => ctx?.heartbeat(), 1000);
  const kill = () => child.kill('SIGKILL');
  ctx?.cancellationSignal.addEventListener('abort', kill, { once: true });
  const timer = opts.timeoutMs ? setTimeout(kill, opts.timeoutMs) : undefined;
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (status) => resolve(status));
    });
    return { code, log: log.length > MAX_LOG_CHARS ? `…${log.slice(-MAX_LOG_CHARS)}` : log };
  } finally {
    clearInterval(beat);
    if (timer) clearTimeout(timer);
    ctx?.cancellationSignal.removeEventListener('abort', kill);
  }
}

function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    // Called outside an activity (a bench script): no heartbeats to send.
    return null;
  }
}
