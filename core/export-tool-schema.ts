// The JSON Schema subset an exported package checks a model's tool arguments against
// (templates/package/tool_schema.py, a standard-library mirror of ajv for these keywords, with ajv's
// messages): what the editor's parameter form writes. A tool schema with any other keyword is refused at
// export, so the package never lets through arguments the platform would refuse.
import { DEFAULT_TOOL_PARAMETERS } from './tool-loop';

/** Keywords that check something, and those that only annotate (ignored by both sides; ajv checks no formats). */
export const EXPORT_SCHEMA_KEYWORDS: readonly string[] = [
  'type',
  'properties',
  'required',
  'enum',
  'items',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'additionalProperties',
  'description',
  'title',
  'default',
  'examples',
  'format',
];

const KEYWORDS = new Set(EXPORT_SCHEMA_KEYWORDS);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/** What in `parameters` the package cannot check exactly as the platform does; empty when it can. */
export function exportSchemaProblems(parameters: Record<string, unknown> | undefined): string[] {
  const problems: string[] = [];
  checkSchema(parameters ?? DEFAULT_TOOL_PARAMETERS, '', problems);
  return problems;
}

function checkSchema(schema: unknown, at: string, problems: string[]): void {
  const where = at || '(root)';
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    problems.push(`parameters ${where}: a schema must be an object here (true/false schemas are not supported in exported packages)`);
    return;
  }
  const record = schema as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !KEYWORDS.has(key));
  if (unknown.length) {
    problems.push(`parameters ${where}: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not supported in exported packages (supported: ${EXPORT_SCHEMA_KEYWORDS.join(', ')})`);
  }
  const type = record.type;
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    if (!types.length || types.some((t) => typeof t !== 'string' || !TYPES.has(t))) problems.push(`parameters ${where}: type must name JSON types`);
  }
  if (record.additionalProperties !== undefined && typeof record.additionalProperties !== 'boolean') {
    problems.push(`parameters ${where}: additionalProperties must be true or false in exported packages (a schema there is not supported)`);
  }
  if (record.items !== undefined) checkSchema(record.items, `${at}/items`, problems);
  const properties = record.properties;
  if (properties !== undefined && properties !== null && typeof properties === 'object' && !Array.isArray(properties)) {
    for (const [name, sub] of Object.entries(properties)) checkSchema(sub, `${at}/properties/${name}`, problems);
  }
}
