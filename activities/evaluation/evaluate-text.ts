// What one evaluation process does with one text (runs in a child process of the worker, never in the worker
// itself): evaluates it over the scope, serializes the value and measures it against the output cap. Wall
// time and memory are bounded from outside (pool.ts ends the process); steps and depth by JSONata itself.
import type { FieldEvaluation } from '../../core/evaluation-protocol';
import { EVALUATION_ERROR } from '../../core/evaluation-protocol';
import { EXPRESSION_LIMIT_CODES, ExpressionError, evaluateExpression } from '../../core/expression';
import { EXPRESSION_LIMIT } from '../../core/limits';
import { valueTooLarge } from '../../core/evaluation-budget';
import { renderTemplate, type TemplateScope } from '../../core/template';

/** The event an evaluation process emits when it starts a text (the pool starts the text's clock). */
export const EVALUATION_STARTED = 'started';

/** One text and its limits, as sent to an evaluation process (JSON over the IPC channel). */
export interface EvaluationTask {
  field: FieldEvaluation;
  scope: TemplateScope;
  nowMs: number;
  maxSteps: number;
  maxBytes: number;
}

export type ThreadOutcome =
  /** `json` is the value as JSON text (null for no value); `bytes` its UTF-8 length. */
  | { ok: true; json: string | null; bytes: number }
  | { ok: false; code: string; message: string };

/** `started` is called the moment evaluation begins, so the time limit does not count the wait in the queue. */
export async function evaluateText(task: EvaluationTask, started: () => void): Promise<ThreadOutcome> {
  started();
  let value: unknown;
  try {
    switch (task.field.kind) {
      case 'template':
        value = renderTemplate(task.field.source, task.scope);
        break;
      case 'expression':
        value = await evaluateExpression(task.field.source, task.scope, { nowMs: task.nowMs, maxSteps: task.maxSteps });
        break;
      case 'condition':
        value = Boolean(await evaluateExpression(task.field.source, task.scope, { nowMs: task.nowMs, maxSteps: task.maxSteps }));
        break;
    }
  } catch (err) {
    return failure(err, task.maxSteps);
  }
  return measure(value, task.maxBytes);
}

function measure(value: unknown, maxBytes: number): ThreadOutcome {
  // A long string is refused before JSON.stringify copies it (`$pad("x", 1e8)` is 100 MB already).
  if (typeof value === 'string') {
    const lowerBound = Buffer.byteLength(value) + 2;
    if (lowerBound > maxBytes) return valueTooLarge(lowerBound, maxBytes);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    // "Invalid string length": the JSON text would be longer than V8 allows a string to be.
    if (err instanceof RangeError) return valueTooLarge(Infinity, maxBytes);
    // A cycle (a JSONata function value refers to its environment) or a BigInt.
    return { ok: false, code: EVALUATION_ERROR, message: `the value cannot be stored as JSON (${err instanceof Error ? err.message.split('\n')[0] : String(err)})` };
  }
  if (json === undefined) return { ok: true, json: null, bytes: 0 };
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) return valueTooLarge(bytes, maxBytes);
  return { ok: true, json, bytes };
}


function failure(err: unknown, maxSteps: number): ThreadOutcome {
  if (err instanceof ExpressionError && EXPRESSION_LIMIT_CODES.includes(err.code)) {
    return { ok: false, code: EXPRESSION_LIMIT, message: limitMessage(err, maxSteps) };
  }
  // V8's own limits, reached by a template or a JSONata built-in: the native stack, the longest string.
  if (err instanceof RangeError) {
    return { ok: false, code: EXPRESSION_LIMIT, message: `evaluation reached a limit of the JavaScript engine: ${err.message}` };
  }
  return { ok: false, code: EVALUATION_ERROR, message: err instanceof Error ? err.message : String(err) };
}

function limitMessage(err: ExpressionError, maxSteps: number): string {
  switch (err.code) {
    case 'TESSERA_STEPS':
      return `the expression exceeded ${maxSteps} evaluation steps (EXPRESSION_MAX_STEPS=${maxSteps})`;
    case 'TESSERA_ENGINE_LIMIT':
      return `evaluation reached a limit of the JavaScript engine: ${err.message}`;
    case 'D1011':
      return `the expression nested deeper than its depth limit (a recursion that is not a tail call): ${err.message}`;
    default:
      return `the expression built a sequence longer than its limit: ${err.message}`;
  }
}
