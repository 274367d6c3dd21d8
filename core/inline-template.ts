// The templates a run may render without leaving the workflow: plain text with `{{inputs.x}}` and
// `{{nodes.id.field}}` lookups and nothing else (the README canvas's prompt and output are such). They render
// exactly as core/template.ts's Handlebars would (core/inline-template.test.ts compares the two), cost a few
// string operations, and so spare the run a local activity; every other text goes to the evaluation threads.
// Pure and free of Handlebars, so the workflow bundle can hold it.
import type { TemplateScope } from './template';

type Segment = { text: string } | { path: string[] };

/** A template of the inline kind, split into its text and its lookups. */
export interface InlineTemplate {
  segments: Segment[];
}

// `{{ inputs.a }}`, `{{nodes.draft.text}}`: a root the scope has, then identifier segments. Whitespace
// control (`~`), triple braces, helpers, blocks, numbers and `..` are all outside the kind.
const LOOKUP = /\{\{\s*((?:inputs|nodes)(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/y;

// Names Handlebars would not look up as plain data: the scope copies it renders carry their own `toString`,
// and prototype members resolve by its access rules (core/template.ts RUNTIME_OPTIONS), not as own data.
const NOT_DATA = new Set<string>(['__proto__', 'toString', ...Object.getOwnPropertyNames(Object.prototype), ...Object.getOwnPropertyNames(Array.prototype)]);

/** `source` split into text and lookups, or null when it is not of the inline kind. */
export function inlineTemplate(source: string): InlineTemplate | null {
  const segments: Segment[] = [];
  let from = 0;
  for (;;) {
    const open = source.indexOf('{{', from);
    const text = source.slice(from, open === -1 ? undefined : open);
    if (text) segments.push({ text });
    if (open === -1) return { segments };
    // `\{{` is Handlebars' escaped mustache.
    if (open > 0 && source[open - 1] === '\\') return null;
    LOOKUP.lastIndex = open;
    const match = LOOKUP.exec(source);
    if (!match) return null;
    const path = match[1]!.split('.');
    if (path.some((name) => NOT_DATA.has(name))) return null;
    from = LOOKUP.lastIndex;
    // `}}}` closes a triple-brace mustache: Handlebars refuses it after `{{`.
    if (source[from] === '}') return null;
    segments.push({ path });
  }
}

/**
 * What `template` renders over `scope`, or undefined when a lookup meets a value Handlebars treats by rules
 * of its own (a string's or number's properties, an object with a `toString` key): the caller then renders it
 * with Handlebars. Handlebars joins a template's parts with JavaScript's `+` and makes the result a string,
 * so `{{a}}{{b}}` of the numbers 12 and 12 renders "24"; this does the same.
 */
export function renderInline(template: InlineTemplate, scope: TemplateScope): string | undefined {
  let out: string | number | boolean | undefined;
  for (const segment of template.segments) {
    const part = 'text' in segment ? segment.text : placed(lookup(scope, segment.path));
    if (part === undefined) return undefined;
    // The `+` of Handlebars' generated code: a sum of numbers and booleans until a string joins in.
    out = out === undefined ? part : (out as string) + (part as string);
  }
  return String(out ?? '');
}

function lookup(scope: TemplateScope, path: string[]): unknown {
  let value: unknown = scope;
  for (const name of path) {
    if (value === null || value === undefined) return value;
    // A string's `length` or a number's members resolve by Handlebars' own rules: not taken here.
    if (typeof value !== 'object') return DECLINED;
    value = Object.prototype.hasOwnProperty.call(value, name) ? (value as Record<string, unknown>)[name] : undefined;
  }
  return value;
}

const DECLINED = Symbol('declined');

/**
 * A value as Handlebars (with `noEscape` and the JSON `toString` of its scope copies) hands it to `+`: nothing
 * for null, JSON for an object or array, the value itself otherwise.
 */
function placed(value: unknown): string | number | boolean | undefined {
  if (value === DECLINED) return undefined;
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return value as string | number | boolean;
  let shadowed = false;
  const json = JSON.stringify(value, (key, item: unknown) => {
    if (key === 'toString') shadowed = true;
    return item;
  });
  return shadowed ? undefined : (json ?? '');
}
