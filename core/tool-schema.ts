// The JSON Schemas of an agent's tools (`parameters`): compiled with ajv, so the validator can refuse a schema
// that is not one and the model-call activity can check the model's arguments before any tool runs.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { Tool } from './graph';
import { DEFAULT_TOOL_PARAMETERS } from './tool-loop';

// strict: a misspelt keyword (`propertis`) is a mistake the user wants to hear about. Formats are not
// checked: ajv knows none without ajv-formats, and an unknown format would otherwise refuse the schema.
function newAjv(): Ajv {
  return new Ajv({ strict: true, strictTypes: false, strictTuples: false, strictRequired: false, allErrors: true, validateFormats: false });
}

export type CompiledParameters = { ok: true; validate: ValidateFunction } | { ok: false; message: string } | { ok: 'unchecked' };

/**
 * Compiles a tool's parameter schema. The schema must describe an object (what function calling requires).
 * `unchecked` where code generation is forbidden (a browser under a CSP without 'unsafe-eval'): the server
 * checks again when the canvas is saved or run.
 */
export function compileToolParameters(parameters: Record<string, unknown> | undefined): CompiledParameters {
  const schema = parameters ?? DEFAULT_TOOL_PARAMETERS;
  if (schema.type !== 'object') return { ok: false, message: 'parameters must be a JSON Schema of type "object"' };
  try {
    return { ok: true, validate: newAjv().compile(schema) };
  } catch (err) {
    if (err instanceof EvalError) return { ok: 'unchecked' };
    return { ok: false, message: `parameters is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The model's arguments against the schema: null when they fit, else what is wrong, for the model to read. */
export function argumentProblems(validate: ValidateFunction, args: unknown): string | null {
  if (validate(args)) return null;
  return (validate.errors ?? []).map(describeError).join('; ') || 'the arguments do not match the parameters';
}

function describeError(e: ErrorObject): string {
  return `${e.instancePath || '(arguments)'} ${e.message ?? 'is invalid'}`;
}

/** The names a tool gives the model (an MCP server's are known only when it is asked). */
export function namedTool(tool: Tool): string | null {
  return tool.type === 'mcp' ? null : tool.name;
}
