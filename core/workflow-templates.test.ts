// The gallery's templates are valid canvases that run offline: every agent uses echo, ids are unique, each
// has defaults for its required inputs (so "Run" needs no typing), and a fresh copy is handed out per call.
import { compileGraph } from './compile';
import { validateGraph } from './validate';
import { WORKFLOW_TEMPLATES, findWorkflowTemplate } from './workflow-templates';

describe('workflow templates', () => {
  it('has the three templates the current node types allow', () => {
    expect(WORKFLOW_TEMPLATES.map((t) => t.id)).toEqual(['research-write-review', 'support-triage', 'system-crafter']);
    expect(new Set(WORKFLOW_TEMPLATES.map((t) => t.id)).size).toBe(WORKFLOW_TEMPLATES.length);
  });

  it.each(WORKFLOW_TEMPLATES.map((t) => [t.id, t] as const))('%s passes the validator and compiles', (_id, template) => {
    const graph = template.graph();
    expect(validateGraph(graph)).toEqual({ valid: true, errors: [] });
    expect(compileGraph(graph, { workflowId: template.id, workflowVersion: 1 }).nodes.length).toBe(graph.nodes.length);
  });

  it.each(WORKFLOW_TEMPLATES.map((t) => [t.id, t] as const))('%s runs offline: echo agents, defaults for required inputs', (_id, template) => {
    const graph = template.graph();
    for (const node of graph.nodes.filter((n) => n.type === 'agent')) expect(node.data['provider']).toBe('echo');
    const trigger = graph.nodes.find((n) => n.type === 'trigger');
    const inputs = (trigger?.data['inputs'] ?? {}) as Record<string, { required?: boolean; default?: unknown }>;
    for (const spec of Object.values(inputs)) if (spec.required) expect(spec.default).toBeDefined();
    expect(new Set(template.tags)).toEqual(new Set(graph.nodes.map((n) => n.type)));
  });

  it('the SystemCrafter pipeline runs its seven stages in order', () => {
    const graph = findWorkflowTemplate('system-crafter')!.graph();
    const order: string[] = [];
    let at: string | undefined = 'brief';
    while (at) {
      order.push(at);
      at = graph.edges.find((e) => e.source === at)?.target;
    }
    expect(order).toEqual(['brief', 'requirements', 'architecture', 'api', 'database', 'backend', 'frontend', 'qa', 'dossier', 'deliverable']);
  });

  it('hands out a fresh copy each time', () => {
    const template = findWorkflowTemplate('support-triage')!;
    const a = template.graph();
    a.nodes.pop();
    expect(template.graph().nodes.length).toBe(a.nodes.length + 1);
  });
});
