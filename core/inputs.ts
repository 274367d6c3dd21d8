// Run inputs checked and coerced against the trigger's declaration (DESIGN.md §2), so a run starts with the
// values its templates expect, whether they came from a typed JSON client or from a form's strings.
import type { InputSpec } from './graph';

export interface InputProblem {
  /** The input's name; '' when the inputs as a whole are wrong. */
  field: string;
  message: string;
}

export type RunInputsCheck = { ok: true; inputs: Record<string, unknown> } | { ok: false; problems: InputProblem[] };

/**
 * Checks `given` against `spec`: unknown names are refused, a missing (undefined or null) input takes its default
 * or is reported when required, and values are coerced: "42" → 42, "true"/"false" → booleans, numbers and
 * booleans → strings for string inputs; an object input must be a plain JSON object. `given` undefined counts
 * as `{}` (a start request without inputs). Optional inputs without a default are left out of the result.
 */
export function checkRunInputs(spec: Record<string, InputSpec>, given: unknown): RunInputsCheck {
  if (given === undefined) given = {};
  if (!isPlainRecord(given)) {
    return { ok: false, problems: [{ field: '', message: 'inputs must be an object of name → value' }] };
  }
  const problems: InputProblem[] = [];
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(spec, name)) problems.push({ field: name, message: `unknown input "${name}"` });
  }
  const entries: [string, unknown][] = [];
  for (const [name, inputSpec] of Object.entries(spec)) {
    const raw = Object.hasOwn(given, name) ? given[name] : undefined;
    const value = raw === null || raw === undefined ? inputSpec.default : raw;
    if (value === undefined || value === null) {
      if (inputSpec.required) problems.push({ field: name, message: `input "${name}" is required` });
      continue;
    }
    const coerced = coerceInput(inputSpec.type, value);
    if (coerced.ok) entries.push([name, coerced.value]);
    else problems.push({ field: name, message: `input "${name}" ${coerced.message}` });
  }
  if (problems.length > 0) return { ok: false, problems };
  // fromEntries defines own properties, so an input named "__proto__" stays an ordinary key.
  return { ok: true, inputs: Object.fromEntries(entries) };
}

// Decimal notation only: Number() would also read "0x1f", "0b1" and "" (as 0), which no form user means.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export type CoercedInput = { ok: true; value: unknown } | { ok: false; message: string };

/** Coerces one value to an input type; also used by the validator to check a declared default. */
export function coerceInput(type: InputSpec['type'], value: unknown): CoercedInput {
  switch (type) {
    case 'string':
      if (typeof value === 'string') return { ok: true, value };
      if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') {
        return { ok: true, value: String(value) };
      }
      return { ok: false, message: 'must be a string' };
    case 'number': {
      if (typeof value === 'number') {
        return Number.isFinite(value) ? { ok: true, value } : { ok: false, message: 'must be a finite number' };
      }
      if (typeof value === 'string' && DECIMAL.test(value.trim())) {
        const parsed = Number(value.trim());
        if (Number.isFinite(parsed)) return { ok: true, value: parsed };
      }
      return { ok: false, message: 'must be a number' };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { ok: true, value };
      const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
      if (text === 'true') return { ok: true, value: true };
      if (text === 'false') return { ok: true, value: false };
      return { ok: false, message: 'must be true or false' };
    }
    case 'object':
      if (isPlainRecord(value)) return { ok: true, value };
      return { ok: false, message: 'must be an object' };
  }
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
