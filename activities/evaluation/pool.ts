// The worker's evaluation processes: every expression and template of a run is evaluated in a child process of
// the worker, outside the Temporal workflow sandbox, with a wall-time limit (the process is ended when it runs
// over), a V8 heap limit and the step budget. A text that exhausts its heap ends only its own process (V8
// aborts it); the pool forks a new one and the worker carries on. Threads could not promise that: a thread's
// out-of-memory during code finalisation aborts the whole process (nodejs/node#47224).
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { pool as workerPool, Promise as WorkerPromise, type Pool } from 'workerpool';
import type { FieldEvaluation } from '../../core/evaluation-protocol';
import { DEFAULT_RUN_LIMITS, EXPRESSION_LIMIT, type RunLimits } from '../../core/limits';
import type { TemplateScope } from '../../core/template';
import { EVALUATION_STARTED, type EvaluationTask, type ThreadOutcome } from './evaluate-text';

export interface EvaluationPoolOptions {
  limits?: Partial<RunLimits>;
  /** Processes evaluating at once (default: the cores, at least 2, at most 4). */
  threads?: number;
  /** Told of each process that ended during a text (its exit code and signal are in the message), for the log. */
  onError?: (err: unknown) => void;
  /** What a process wrote to its stdout or stderr during a text (V8's "heap out of memory" report, say), for the log. */
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
}

/** What a process forks: the compiled program itself, or (running from sources) the entry that registers tsx. */
function evaluatorScript(): string {
  const program = require.resolve('./evaluator-process');
  return program.endsWith('.ts') ? path.join(__dirname, 'evaluator.cjs') : program;
}

/** V8 flags of an evaluation process: its heap limit, and a young generation in proportion (as the threads had). */
function evaluatorFlags(memoryMb: number): string[] {
  const youngMb = Math.min(32, Math.max(4, Math.floor(memoryMb / 4)));
  // The young generation is three semi-spaces.
  return [`--max-old-space-size=${memoryMb}`, `--max-semi-space-size=${Math.max(1, Math.floor(youngMb / 3))}`];
}

export class EvaluationPool {
  readonly limits: RunLimits;
  private readonly pool: Pool;
  private readonly onError: (err: unknown) => void;
  private readonly onOutput: (text: string, stream: 'stdout' | 'stderr') => void;

  constructor(options: EvaluationPoolOptions = {}) {
    this.limits = { ...DEFAULT_RUN_LIMITS, ...options.limits };
    const processes = options.threads ?? Math.min(4, Math.max(2, availableParallelism()));
    this.pool = workerPool(evaluatorScript(), {
      workerType: 'process',
      minWorkers: 1,
      maxWorkers: processes,
      // A process that runs over is busy in synchronous code: it cannot clean up, so it is killed at once.
      workerTerminateTimeout: 20,
      // Not the parent's flags (`--import tsx`, a debugger): evaluator.cjs loads what a process needs.
      forkOpts: { execArgv: evaluatorFlags(this.limits.expressionMemoryMb) },
      // Each process's stdout and stderr are piped to the pool, not shared with this process: a text that
      // exhausts a process's heap makes V8 print "JavaScript heap out of memory" there, which must not read as
      // this process running out (jest's worker supervisor, for one, kills its worker on that line).
      emitStdStreams: true,
    });
    this.onError = options.onError ?? (() => undefined);
    this.onOutput = options.onOutput ?? (() => undefined);
  }

  /**
   * Evaluates one text. A limit reached (steps, depth, time, memory, output size) resolves as a failed
   * outcome; only a failure of the pool itself rejects (an infrastructure error the caller may retry).
   */
  async evaluate(field: FieldEvaluation, scope: TemplateScope, nowMs: number): Promise<ThreadOutcome> {
    const { expressionTimeoutMs, expressionMemoryMb, expressionMaxSteps, nodeOutputMaxBytes } = this.limits;
    const task: EvaluationTask = { field, scope, nowMs, maxSteps: expressionMaxSteps, maxBytes: nodeOutputMaxBytes };
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    // The clock starts when a process takes the text, not when it is queued behind other runs' texts.
    const run = this.pool.exec('evaluate', [task], {
      on: (event: unknown) => {
        if (event && typeof event === 'object') return this.output(event as { stdout?: string; stderr?: string });
        if (event !== EVALUATION_STARTED) return;
        timer = setTimeout(() => {
          timedOut = true;
          run.cancel();
        }, expressionTimeoutMs);
      },
    });
    try {
      return (await run) as ThreadOutcome;
    } catch (err) {
      if (timedOut && err instanceof WorkerPromise.CancellationError) {
        return { ok: false, code: EXPRESSION_LIMIT, message: `evaluation took longer than ${expressionTimeoutMs} ms (EXPRESSION_TIMEOUT_MS=${expressionTimeoutMs})` };
      }
      // The program answers every error of a text; its process ends during a text only when V8 aborts it at the
      // heap limit (or the kernel kills it for memory).
      if (err instanceof Error && err.message.startsWith('Workerpool Worker terminated Unexpectedly')) {
        this.onError(err);
        return { ok: false, code: EXPRESSION_LIMIT, message: `evaluation needed more than ${expressionMemoryMb} MB of memory (EXPRESSION_MEMORY_MB=${expressionMemoryMb})` };
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private output(streams: { stdout?: string; stderr?: string }): void {
    if (streams.stdout) this.onOutput(streams.stdout, 'stdout');
    if (streams.stderr) this.onOutput(streams.stderr, 'stderr');
  }

  /** Evaluation processes alive now (for tests and metrics). */
  get processCount(): number {
    return this.pool.stats().totalWorkers;
  }

  async close(): Promise<void> {
    await this.pool.terminate(true);
  }
}
