// The worker's evaluation threads: every expression and template of a run is evaluated here, outside the
// Temporal workflow sandbox, with a wall-time limit (the thread is ended when it runs over), a V8 heap limit
// and the step budget. A thread that is ended is replaced by the pool; the worker process carries on.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { FieldEvaluation } from '../../core/evaluation-protocol';
import { DEFAULT_RUN_LIMITS, EXPRESSION_LIMIT, type RunLimits } from '../../core/limits';
import type { TemplateScope } from '../../core/template';
import type { ThreadOutcome, ThreadTask } from './evaluate-in-thread';

export interface EvaluationPoolOptions {
  limits?: Partial<RunLimits>;
  /** Threads evaluating at once (default: the cores, at least 2, at most 4). */
  threads?: number;
  /** A thread failure no task was waiting for (piscina emits it as an 'error' event; unheard, it would end the process). */
  onError?: (err: unknown) => void;
}

/** Where a thread starts: the compiled module itself, or (running from sources) the entry that registers tsx. */
function threadEntry(): { filename: string; workerData: { module: string } } {
  const module = require.resolve('./evaluate-in-thread');
  const filename = module.endsWith('.ts') ? path.join(__dirname, 'thread.cjs') : module;
  return { filename, workerData: { module } };
}

export class EvaluationPool {
  readonly limits: RunLimits;
  private readonly pool: Piscina<ThreadTask, ThreadOutcome>;

  constructor(options: EvaluationPoolOptions = {}) {
    this.limits = { ...DEFAULT_RUN_LIMITS, ...options.limits };
    const threads = options.threads ?? Math.min(4, Math.max(2, availableParallelism()));
    this.pool = new Piscina<ThreadTask, ThreadOutcome>({
      ...threadEntry(),
      name: 'evaluateInThread',
      minThreads: 1,
      maxThreads: threads,
      // One text per thread at a time: ending a thread that runs over must not take another run's text with it.
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      // Not the parent's flags (`--import tsx`, a debugger): thread.cjs loads what a thread needs.
      execArgv: [],
      resourceLimits: {
        maxOldGenerationSizeMb: this.limits.expressionMemoryMb,
        maxYoungGenerationSizeMb: Math.min(32, Math.max(4, Math.floor(this.limits.expressionMemoryMb / 4))),
        stackSizeMb: 4,
      },
    });
    this.pool.on('error', options.onError ?? (() => undefined));
  }

  /**
   * Evaluates one text. A limit reached (steps, depth, time, memory, output size) resolves as a failed
   * outcome; only a failure of the pool itself rejects (an infrastructure error the caller may retry).
   */
  async evaluate(field: FieldEvaluation, scope: TemplateScope, nowMs: number): Promise<ThreadOutcome> {
    const { expressionTimeoutMs, expressionMemoryMb, expressionMaxSteps, nodeOutputMaxBytes } = this.limits;
    const channel = new MessageChannel();
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The clock starts when the thread takes the text, not when it is queued behind other runs' texts.
    channel.port1.once('message', () => {
      timer = setTimeout(() => abort.abort(), expressionTimeoutMs);
    });
    const task: ThreadTask = { field, scope, nowMs, maxSteps: expressionMaxSteps, maxBytes: nodeOutputMaxBytes, started: channel.port2 };
    try {
      return await this.pool.run(task, { transferList: [channel.port2], signal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted) {
        return { ok: false, code: EXPRESSION_LIMIT, message: `evaluation took longer than ${expressionTimeoutMs} ms (EXPRESSION_TIMEOUT_MS=${expressionTimeoutMs})` };
      }
      if ((err as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        return { ok: false, code: EXPRESSION_LIMIT, message: `evaluation needed more than ${expressionMemoryMb} MB of memory (EXPRESSION_MEMORY_MB=${expressionMemoryMb})` };
      }
      throw err;
    } finally {
      clearTimeout(timer);
      channel.port1.close();
    }
  }

  /** Threads alive now (for tests and metrics). */
  get threadCount(): number {
    return this.pool.threads.length;
  }

  async close(): Promise<void> {
    await this.pool.close({ force: true });
  }
}
