// The limits a user's canvas meets where its text is evaluated and its data is kept (issue 9), their
// defaults, the error codes a node or a request fails with, and the one way sizes are measured.
// Pure: the API, the worker's activities and the workflow all measure the same way.
import { AppError } from './errors';

/** A node exceeded an evaluation limit: steps, nesting depth, sequence length, wall time or memory. */
export const EXPRESSION_LIMIT = 'EXPRESSION_LIMIT';
/** A value a node produced (or rendered for its activity) is larger than its cap. */
export const OUTPUT_TOO_LARGE = 'OUTPUT_TOO_LARGE';
/** A run's inputs are larger than RUN_INPUTS_MAX_BYTES (the API answers 413). */
export const INPUTS_TOO_LARGE = 'INPUTS_TOO_LARGE';

export interface RunLimits {
  /** Wall time of one evaluation (an expression or a template), from the moment a thread starts it. */
  expressionTimeoutMs: number;
  /** JSONata evaluation steps of one expression (see core/expression.ts). */
  expressionMaxSteps: number;
  /** V8 old-generation heap of an evaluation thread; a thread that needs more is ended. */
  expressionMemoryMb: number;
  /** Serialized size of one node's output, and of each text rendered for an agent or approval. */
  nodeOutputMaxBytes: number;
  /** Serialized size of all node outputs of one run together (they all end up in the run's history). */
  runOutputsMaxBytes: number;
  /** Serialized size of a run's inputs, checked by the API before anything is written. */
  runInputsMaxBytes: number;
}

/** The caps a run's node values meet; fixed in its plan when it starts (core/run-start.ts). */
export type OutputLimits = Pick<RunLimits, 'nodeOutputMaxBytes' | 'runOutputsMaxBytes'>;

/**
 * Defaults, sized from Temporal's own limits (2 MiB per payload, 50 MiB of history per run): a node output
 * travels in one payload (the evaluation's result, a progress batch), and each run output byte lands in the
 * history two or three times (evaluation result, progress write, approval context).
 */
export const DEFAULT_RUN_LIMITS: RunLimits = {
  expressionTimeoutMs: 2_000,
  expressionMaxSteps: 250_000,
  expressionMemoryMb: 128,
  nodeOutputMaxBytes: 1024 * 1024,
  runOutputsMaxBytes: 8 * 1024 * 1024,
  runInputsMaxBytes: 256 * 1024,
};

/** The largest NODE_OUTPUT_MAX_BYTES allowed: one output plus its batch must stay under Temporal's 2 MiB payload limit. */
export const NODE_OUTPUT_MAX_BYTES_CEILING = 1536 * 1024;
/** The largest RUN_OUTPUTS_MAX_BYTES allowed: two or three copies must stay under Temporal's 50 MiB history limit. */
export const RUN_OUTPUTS_MAX_BYTES_CEILING = 16 * 1024 * 1024;

/** UTF-8 length of `text`, counted without allocating (a 1 MiB string is measured in place). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Bytes of `value` as JSON (what a Temporal payload or a jsonb column holds); `undefined` is 0. */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : utf8Length(text);
}

/** "1 MiB", "256 KiB", "10.5 MiB", "512 bytes": how limits and sizes read in error messages. */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [
    [1024 * 1024, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const n = bytes / size;
      return `${Number.isInteger(n) ? n : n.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

/**
 * How deep a JSON request body may nest. Past this, recursive code further on (schema checks, serialisers,
 * the database's jsonb) would run out of stack; 128 levels is far beyond any canvas or run input.
 */
export const JSON_MAX_DEPTH = 128;

/** Whether `value` nests objects and arrays more than `maxDepth` levels deep; walks without recursion. */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length) {
    const { value: v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > maxDepth) return true;
    for (const item of Array.isArray(v) ? v : Object.values(v)) stack.push({ value: item, depth: depth + 1 });
  }
  return false;
}

/** The answer to a request body that nests deeper than any route takes. */
export function jsonTooDeep(): AppError {
  return new AppError('JSON_TOO_DEEP', 400, `request bodies may nest at most ${JSON_MAX_DEPTH} levels of objects and arrays`, { maxDepth: JSON_MAX_DEPTH });
}
