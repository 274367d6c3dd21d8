// The process manager under `npm start`: runs each child in its own process group with its output lines
// prefixed by its name, restarts a service (worker, api) that exits with exponential backoff, and stops
// everything in order. Plain ESM without dependencies, like the other scripts.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

/** 1 s, 2 s, 4 s … up to 30 s between restarts; a service that stayed up a minute starts again at 1 s. */
export const RESTART_POLICY = { firstDelayMs: 1_000, maxDelayMs: 30_000, resetAfterMs: 60_000 };
const STOP_GRACE_MS = 10_000;

/** "code 1" or "signal SIGKILL". */
export function exitDescription({ code, signal }) {
  return code === null ? `signal ${signal}` : `code ${code}`;
}

function duration(ms) {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

export class Supervisor {
  /** name → { child, exited, startedAt, oneShot } of every running child. */
  children = new Map();
  /** name → how to start it again, and its backoff state; only services are restarted. */
  services = new Map();
  stopping = false;
  restartsEnabled = false;
  /** Called when a child that is not restarted exits when it should not (Temporal; a service during startup). */
  onFatalExit = () => {};

  /**
   * @param {{ say: (name: string, line: string, stream?: NodeJS.WriteStream) => void, cwd: string, policy?: typeof RESTART_POLICY }} options
   */
  constructor({ say, cwd, policy = RESTART_POLICY }) {
    this.say = say;
    this.cwd = cwd;
    this.policy = policy;
  }

  run(name, command, args, options = {}) {
    const child = spawn(command, args, {
      cwd: this.cwd,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so stopping it also stops what it spawned (npm → sh → tsx → node).
      detached: process.platform !== 'win32',
      ...options,
    });
    return this.adopt(name, child);
  }

  /** Runs `name` as a service: started now, and again after a delay whenever it exits unexpectedly. */
  keep(name, command, args, options = {}) {
    this.services.set(name, { command, args, options, nextDelayMs: this.policy.firstDelayMs, timer: null, restarts: 0 });
    const entry = this.run(name, command, args, options);
    this.say('start', `${name} started (pid ${entry.child.pid})`);
    return entry;
  }

  /** From now on a service that exits is restarted instead of stopping the stack (called once it is up). */
  enableRestarts() {
    this.restartsEnabled = true;
  }

  adopt(name, child) {
    for (const [stream, target] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      if (stream) readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.say(name, line, target));
    }
    const exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.say(name, `could not start: ${error.message}`, process.stderr);
        resolve({ code: 1, signal: null });
      });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const entry = { child, exited, startedAt: Date.now(), oneShot: false };
    this.children.set(name, entry);
    exited.then((how) => {
      this.signalGroup(child, 'SIGKILL'); // anything the child left behind in its group
      if (this.children.get(name) === entry) this.children.delete(name);
      // A one-shot child's failure is reported by runToCompletion's caller.
      if (this.stopping || entry.oneShot) return;
      const service = this.services.get(name);
      if (service && this.restartsEnabled) this.scheduleRestart(name, service, entry, how);
      else this.onFatalExit(name, exitDescription(how));
    });
    return entry;
  }

  scheduleRestart(name, service, entry, how) {
    const upMs = Date.now() - entry.startedAt;
    if (upMs >= this.policy.resetAfterMs) service.nextDelayMs = this.policy.firstDelayMs;
    const delayMs = service.nextDelayMs;
    service.nextDelayMs = Math.min(delayMs * 2, this.policy.maxDelayMs);
    const at = new Date(Date.now() + delayMs).toTimeString().slice(0, 8);
    this.say(
      'start',
      `${name} (pid ${entry.child.pid}) exited unexpectedly (${exitDescription(how)}) after ${duration(upMs)} up; ` +
        `restarting it in ${duration(delayMs)}, at ${at}`,
      process.stderr,
    );
    service.timer = setTimeout(() => {
      service.timer = null;
      if (this.stopping) return;
      service.restarts += 1;
      const next = this.run(name, service.command, service.args, service.options);
      this.say('start', `${name} restarted (pid ${next.child.pid}, restart ${service.restarts})`);
    }, delayMs);
  }

  /** Runs a child to completion (e.g. migrations); rejects when it fails. */
  async runToCompletion(name, command, args) {
    const entry = this.run(name, command, args);
    entry.oneShot = true;
    const how = await entry.exited;
    if (how.code !== 0) throw new Error(`${name} failed (${exitDescription(how)})`);
  }

  signalGroup(child, signal) {
    try {
      if (process.platform === 'win32') child.kill(signal);
      else process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  async stop(names = [...this.children.keys()]) {
    await Promise.all(
      names.map(async (name) => {
        const entry = this.children.get(name);
        if (!entry) return;
        this.signalGroup(entry.child, 'SIGTERM');
        const timer = setTimeout(() => {
          this.say('start', `${name} did not stop within ${STOP_GRACE_MS / 1000}s; killing it`);
          this.signalGroup(entry.child, 'SIGKILL');
        }, STOP_GRACE_MS);
        await entry.exited;
        clearTimeout(timer);
      }),
    );
  }

  async stopAll() {
    this.stopping = true;
    for (const service of this.services.values()) if (service.timer) clearTimeout(service.timer);
    // Api and worker first, so the worker can finish its tasks against a Temporal that is still up.
    await this.stop([...this.children.keys()].filter((name) => name !== 'temporal'));
    await this.stop();
  }
}
