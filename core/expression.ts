// JSONata expressions over a run's `{ inputs, nodes }` (DESIGN.md §2), for conditions and transforms:
// bounded evaluation that sees nothing but the scope, and a syntax check for the validator and the browser.
import jsonata from 'jsonata';

import { DEFAULT_RUN_LIMITS } from './limits';
import type { TemplateScope } from './template';

/** Deepest nesting of evaluation JSONata may reach (its own `stack` guard): catches non-tail recursion. */
export const EXPRESSION_MAX_DEPTH = 500;
/**
 * Evaluation steps (AST node visits) one evaluation may take. JSONata optimises tail calls, so
 * `($f := function($n){ $f($n + 1) }; $f(0))` never grows the stack; and `$f($n-1) + $f($n-1)` grows it
 * only linearly while doing exponential work. Counting steps catches both. A step costs about a microsecond
 * in plain Node (100 times more inside a Temporal workflow sandbox, which is why runs evaluate in the worker's
 * evaluation threads, activities/evaluation/), so the default budget is some 0.2 s of work. The worker's
 * setting is EXPRESSION_MAX_STEPS (core/limits.ts); this is its default.
 */
export const EXPRESSION_MAX_STEPS = DEFAULT_RUN_LIMITS.expressionMaxSteps;
/** Longest sequence an evaluation may build (JSONata's own `sequence` guard). */
export const EXPRESSION_MAX_SEQUENCE = 1_000_000;

/**
 * JSONata's and our own error codes that mean "a limit was reached", not "the expression is wrong": the step
 * budget, a limit of V8 itself (a RangeError: the longest string, the native stack), the depth guard (D1011),
 * the range operator's 1e7 cap (D2014) and the sequence guard (D2015).
 */
export const EXPRESSION_LIMIT_CODES: readonly string[] = ['TESSERA_STEPS', 'TESSERA_ENGINE_LIMIT', 'D1011', 'D2014', 'D2015'];

export interface ExpressionOptions {
  /** The step budget of this evaluation (default EXPRESSION_MAX_STEPS); the worker passes its configured one. */
  maxSteps?: number;
  /**
   * The instant `$now()` and `$millis()` return, in epoch milliseconds. Without it they fail: reading the host
   * clock would make a workflow replay differently, so the caller (the workflow) passes its own clock.
   */
  nowMs?: number;
}

/** Raised when an expression fails to parse or evaluate; `code` is JSONata's (e.g. S0201, T2001, D1011). */
export class ExpressionError extends Error {
  readonly code: string;
  readonly position: number | undefined;

  constructor(message: string, code: string, position?: number) {
    super(message);
    this.name = 'ExpressionError';
    this.code = code;
    this.position = position;
  }
}

const STEP_LIMIT_CODE = 'TESSERA_STEPS';
const CLOCK_CODE = 'TESSERA_CLOCK';

/**
 * Evaluates `expr` against `scope` and returns JSONata's value (`undefined` when nothing matched).
 * JSONata's own lookups read own properties only, and it has no access to globals, modules or I/O; the clock
 * functions are replaced (see `ExpressionOptions`). Throws an `ExpressionError`.
 */
export async function evaluateExpression(expr: string, scope: TemplateScope, options: ExpressionOptions = {}): Promise<unknown> {
  // Compiled per call (parsing is cheap next to evaluating) so the step counter belongs to this evaluation only.
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(expr, { stack: EXPRESSION_MAX_DEPTH, sequence: EXPRESSION_MAX_SEQUENCE });
  } catch (err) {
    throw toExpressionError(err);
  }
  let steps = 0;
  const maxSteps = options.maxSteps ?? EXPRESSION_MAX_STEPS;
  // The documented hook of JSONata's "timeboxing" recipe; a step budget instead of a timeout because a
  // timeout reads the clock (and inside a Temporal workflow the clock does not move during an evaluation).
  compiled.assign(Symbol.for('jsonata.__evaluate_entry') as unknown as string, () => {
    steps += 1;
    if (steps > maxSteps) {
      throw { code: STEP_LIMIT_CODE, message: `Expression exceeded ${maxSteps} evaluation steps` };
    }
  });
  bindClock(compiled, options.nowMs);
  // `$random()` and `$shuffle()` stay: in the workflow sandbox Math.random is Temporal's seeded, replay-safe one.
  try {
    return await compiled.evaluate(scope);
  } catch (err) {
    throw toExpressionError(err);
  }
}

/** Returns the syntax error of `expr` (with its position), or null when it parses. */
export function checkExpressionSyntax(expr: string): string | null {
  try {
    jsonata(expr);
    return null;
  } catch (err) {
    return toExpressionError(err).message;
  }
}

function bindClock(compiled: jsonata.Expression, nowMs: number | undefined): void {
  const unavailable = (name: string) => () => {
    throw { code: CLOCK_CODE, message: `${name}() is not available here: no run clock was given` };
  };
  if (nowMs === undefined) {
    compiled.registerFunction('now', unavailable('$now'), '<s?s?:s>');
    compiled.registerFunction('millis', unavailable('$millis'), '<:n>');
    return;
  }
  compiled.registerFunction(
    'now',
    function (this: { environment: { lookup(name: string): unknown } }, picture?: string, timezone?: string) {
      // `$now(picture, tz)` is `$fromMillis(now, picture, tz)`: reuse JSONata's own formatter.
      const fromMillis = this.environment.lookup('fromMillis') as { implementation: (...args: unknown[]) => unknown };
      return fromMillis.implementation.call(this, nowMs, picture, timezone);
    },
    '<s?s?:s>',
  );
  compiled.registerFunction('millis', () => nowMs, '<:n>');
}

function toExpressionError(err: unknown): ExpressionError {
  if (err instanceof ExpressionError) return err;
  if (err instanceof RangeError) return new ExpressionError(err.message, 'TESSERA_ENGINE_LIMIT');
  // JSONata throws plain objects `{code, message, position, token}`, not Errors.
  if (err !== null && typeof err === 'object') {
    const { code, message, position } = err as { code?: unknown; message?: unknown; position?: unknown };
    const text = typeof message === 'string' ? message : 'Invalid expression';
    const pos = typeof position === 'number' ? position : undefined;
    return new ExpressionError(
      pos === undefined ? text : `${text} (at position ${pos})`,
      typeof code === 'string' ? code : 'EXPRESSION_ERROR',
      pos,
    );
  }
  return new ExpressionError(String(err), 'EXPRESSION_ERROR');
}
