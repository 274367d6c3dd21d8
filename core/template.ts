// Handlebars templates over a run's `{ inputs, nodes }` (DESIGN.md §2): rendering for the interpreter, and a
// syntax check that generates no code, so the browser can run it under a strict Content Security Policy.
import Handlebars from 'handlebars';

/** What a template (and an expression) sees: the run's inputs and the outputs of the nodes that ran. */
export interface TemplateScope {
  inputs: Record<string, unknown>;
  nodes: Record<string, unknown>;
}

/** Compiled templates kept per process; bounded because template strings come from users. */
export const TEMPLATE_CACHE_LIMIT = 500;

type CompiledTemplate = (context: unknown, options?: Handlebars.RuntimeOptions) => string;

// An instance of our own, so no helper or partial registered elsewhere in the process can reach our templates.
const handlebars = Handlebars.create();
// `log` writes to the console: output outside the scope, so templates do not get it.
handlebars.unregisterHelper('log');
handlebars.registerHelper('json', jsonHelper);

const cache = new Map<string, CompiledTemplate>();

// `knownHelpers` would let the compiler inline a call to `log` without looking it up: unknown it must be.
const COMPILE_OPTIONS: CompileOptions = { noEscape: true, strict: false, knownHelpers: { log: false } };

// Declaring these (rather than leaving them undefined) keeps prototype members out of reach AND stops
// Handlebars from logging a warning to the console on every such lookup.
const RUNTIME_OPTIONS: Handlebars.RuntimeOptions = {
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
};

type CompileOptions = NonNullable<Parameters<typeof Handlebars.compile>[1]>;

/**
 * Renders `template` as plain text (no HTML escaping). Missing values render as ''. An object or array
 * placed directly (`{{nodes.draft}}`) renders as its JSON, not "[object Object]"; `{{json x}}` does the same
 * explicitly and takes `indent=2` for pretty output. Throws on a syntax error or a missing helper/partial.
 */
export function renderTemplate(template: string, scope: TemplateScope): string {
  const compiled = compileCached(template);
  return compiled(renderableScope(scope), RUNTIME_OPTIONS);
}

/** Returns the syntax error of `template`, or null when it parses. Uses `Handlebars.parse` only (no code generation). */
export function checkTemplateSyntax(template: string): string | null {
  try {
    Handlebars.parse(template);
    return null;
  } catch (err) {
    return errorMessage(err);
  }
}

function compileCached(template: string): CompiledTemplate {
  const hit = cache.get(template);
  if (hit) {
    // Re-inserting keeps the Map's insertion order a least-recently-used order.
    cache.delete(template);
    cache.set(template, hit);
    return hit;
  }
  // Handlebars compiles lazily on the first render, which is where a syntax error is thrown; it retries on
  // the next render, so caching the function before that is harmless.
  const compiled = handlebars.compile(template, COMPILE_OPTIONS);
  cache.set(template, compiled);
  while (cache.size > TEMPLATE_CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    cache.delete(oldest);
  }
  return compiled;
}

function jsonHelper(this: unknown, ...args: unknown[]): string {
  // Handlebars passes its options object last; `{{json}}` alone has nothing else.
  const options = args[args.length - 1] as { hash?: { indent?: unknown } } | undefined;
  if (args.length < 2) return '';
  const indent = typeof options?.hash?.indent === 'number' ? Math.min(Math.max(options.hash.indent, 0), 10) : undefined;
  return toJson(args[0], indent);
}

function toJson(value: unknown, indent?: number): string {
  try {
    return JSON.stringify(value, null, indent) ?? '';
  } catch {
    // A value JSON cannot represent (a cycle, a BigInt) renders as nothing rather than failing the run.
    return '';
  }
}

/**
 * Handlebars with `noEscape` appends values with string concatenation, which turns objects into
 * "[object Object]". We hand it a copy of the scope whose plain objects and arrays carry a non-enumerable
 * `toString` that returns their JSON: enumeration (`#each`), lookups and `{{json}}` see the same data.
 */
function renderableScope(scope: TemplateScope): unknown {
  return withJsonToString(scope, new Map());
}

function withJsonToString(value: unknown, seen: Map<object, unknown>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const done = seen.get(value);
  if (done !== undefined) return done;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(withJsonToString(item, seen));
    defineJsonToString(copy);
    return copy;
  }
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [key, item] of Object.entries(value)) {
    // defineProperty rather than assignment, so a key named "__proto__" stays data.
    Object.defineProperty(copy, key, { value: withJsonToString(item, seen), enumerable: true, writable: true, configurable: true });
  }
  defineJsonToString(copy);
  return copy;
}

function defineJsonToString(target: object): void {
  Object.defineProperty(target, 'toString', {
    value(this: unknown) {
      return toJson(this);
    },
    enumerable: false,
  });
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
