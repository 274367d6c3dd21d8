// How a Tessera process (API, worker) treats a failure that no code handled: it is logged with its context and
// the process keeps serving when that is safe, and exits non-zero when it is not. The composition roots install
// it on `process`; the policy itself is pure so it can be tested without a process to crash.

/**
 * An unhandled promise rejection leaves no half-done synchronous state behind: logged, the process goes on.
 * An uncaught exception is either an 'error' event of one I/O object that nobody listened to (a socket reset,
 * a pipe closed, a file that went away: that object is finished, the rest of the process is not), or a
 * programming error thrown from a callback (a TypeError...), after which shared state may be half-changed;
 * Node's own guidance is to exit then, and the supervisor (npm start, the container runtime) restarts it.
 */
export type FaultVerdict = 'keep-serving' | 'fatal';

/** Node's codes of a stream or socket that ended badly, raised without a syscall (so not caught below). */
const STREAM_FAILURE_CODES = new Set([
  'ECONNRESET', // "socket hang up"
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ABORT_ERR',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_STREAM_PUSH_AFTER_EOF',
  'ERR_STREAM_UNABLE_TO_PIPE',
  'ERR_SOCKET_CLOSED',
  'ERR_HTTP2_STREAM_ERROR',
]);

export function uncaughtExceptionVerdict(err: unknown): FaultVerdict {
  if (typeof err !== 'object' || err === null) return 'fatal';
  const { code, syscall } = err as { code?: unknown; syscall?: unknown };
  // A system error from libuv (lstat, read, connect, write...) belongs to the one handle that raised it.
  if (typeof code === 'string' && typeof syscall === 'string') return 'keep-serving';
  if (typeof code === 'string' && STREAM_FAILURE_CODES.has(code)) return 'keep-serving';
  return 'fatal';
}

/** The part of pino a fault report needs. */
export interface FaultLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  fatal(fields: Record<string, unknown>, message: string): void;
}

/** The part of `process` the handlers attach to. */
export interface FaultSource {
  on(event: 'uncaughtException', listener: (err: Error, origin: string) => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
}

export interface FaultHandlerOptions {
  /** Ends the process after a fatal fault has been logged (process.exit(1) in the roots). */
  exit(code: number): void;
  /** What this process is, for the log line ("api", "worker"). */
  processName: string;
}

export function installFaultHandlers(source: FaultSource, logger: FaultLogger, options: FaultHandlerOptions): void {
  source.on('unhandledRejection', (reason) => {
    logger.error({ err: reason, fault: 'unhandledRejection' }, `${options.processName}: a promise rejected with no handler; the process keeps serving`);
  });
  source.on('uncaughtException', (err, origin) => {
    if (uncaughtExceptionVerdict(err) === 'keep-serving') {
      logger.error({ err, fault: 'uncaughtException', origin }, `${options.processName}: an I/O error had no handler; the process keeps serving`);
      return;
    }
    logger.fatal({ err, fault: 'uncaughtException', origin }, `${options.processName}: an uncaught exception may have left the process inconsistent; exiting`);
    options.exit(1);
  });
}

/** A client that reconnects by itself and says so with 'error' and 'ready' events (ioredis). */
export interface ReconnectingClient {
  on(event: 'error', listener: (err: unknown) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/**
 * Logs a reconnecting client's connection errors with its name: the first of an outage as a warning, then
 * nothing until it is back (ioredis raises one per reconnect attempt). Without a listener ioredis prints
 * them to stderr unstructured; no request fails because of the event itself, only the calls made meanwhile.
 */
export function reportClientErrors(client: ReconnectingClient, name: string, logger: FaultLogger): void {
  let failing = false;
  client.on('error', (err) => {
    if (failing) return;
    failing = true;
    logger.warn({ err, client: name }, `${name}: connection failed; it reconnects by itself (further errors are logged once it is back and fails again)`);
  });
  client.on('ready', () => {
    if (!failing) return;
    failing = false;
    logger.info({ client: name }, `${name}: connection is back`);
  });
}

/** A failure while a process starts (a dependency it cannot reach): fatal, with the step that failed named. */
export class StartupFailed extends Error {
  constructor(step: string, cause: unknown) {
    const reason = (cause as { message?: unknown } | null)?.message;
    super(`could not ${step}: ${typeof reason === 'string' && reason ? reason : String(cause)}`, { cause });
    this.name = 'StartupFailed';
  }
}

/** Runs one step of a process's start; its failure names the step (`connect to PostgreSQL at …`). */
export async function startupStep<T>(step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw new StartupFailed(step, err);
  }
}

/** A connection URL fit for a log line: its password replaced. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}
