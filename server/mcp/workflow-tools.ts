// The tools Tessera's MCP endpoint offers a tenant: one per workflow, named by tool-names.ts, described by
// the workflow's description, taking the trigger's inputs (DESIGN.md §2) as a JSON Schema object.
import { triggerDataSchema, type CanvasGraph, type InputSpec } from '../../core/graph';
import { toolNamesOf } from './tool-names';

export interface CatalogWorkflow {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
  /** The graph of the workflow's current version. */
  graph: CanvasGraph;
}

export interface JsonSchemaObject {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required?: string[];
  additionalProperties: false;
  [key: string]: unknown;
}

export interface WorkflowAsTool {
  name: string;
  title: string;
  description: string;
  inputSchema: JsonSchemaObject;
  workflowId: string;
}

/** The trigger's inputs of a graph; `{}` when it has no trigger (or one the validator would refuse). */
export function triggerInputsOf(graph: CanvasGraph): Record<string, InputSpec> {
  const trigger = graph.nodes.find((n) => n.type === 'trigger');
  const parsed = trigger ? triggerDataSchema.safeParse(trigger.data) : null;
  return parsed?.success ? parsed.data.inputs : {};
}

/** Trigger inputs as the JSON Schema a client fills; types as core/inputs.ts checks them, defaults shown. */
export function inputSchemaOf(inputs: Record<string, InputSpec>): JsonSchemaObject {
  const properties: Record<string, Record<string, unknown>> = {};
  const required: string[] = [];
  for (const [name, spec] of Object.entries(inputs)) {
    properties[name] = {
      type: spec.type,
      ...(spec.description ? { description: spec.description } : {}),
      ...(spec.default !== undefined ? { default: spec.default } : {}),
    };
    if (spec.required && spec.default === undefined) required.push(name);
  }
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

export function workflowToolsOf(workflows: readonly CatalogWorkflow[]): WorkflowAsTool[] {
  const byId = new Map(workflows.map((w) => [w.id, w]));
  const tools: WorkflowAsTool[] = [];
  for (const [name, id] of toolNamesOf(workflows)) {
    const w = byId.get(id)!;
    tools.push({
      name,
      title: w.name,
      description: w.description.trim() || `Runs the Tessera workflow “${w.name}” and returns its outputs.`,
      inputSchema: inputSchemaOf(triggerInputsOf(w.graph)),
      workflowId: w.id,
    });
  }
  return tools.sort((a, b) => a.name.localeCompare(b.name));
}
