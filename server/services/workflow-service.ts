// Workflow use cases: create, read, list, save a new version, delete, validate. Drafts may be saved
// with validation problems (users save work in progress); starting a run refuses them.
import type { WorkflowView } from '../../core/api-views';
import { NotFound } from '../../core/errors';
import type { CanvasGraph } from '../../core/graph';
import { validateGraph, type GraphValidation } from '../../core/validate';
import { selfReferences } from '../../core/child-run';
import type { Workflow, WorkflowRepository, TenantScope } from '../../db';
import type { InvalidationBus } from '../cache/invalidation-bus';
import { requireUuid } from './ids';

/** The validator's problems and, since the view knows the workflow's id, any subflow or workflow tool that runs it itself. */
function withSelfReferences(validation: GraphValidation, graph: CanvasGraph, workflowId: string): GraphValidation {
  const problems = selfReferences(graph, workflowId);
  return problems.length ? { valid: false, errors: [...validation.errors, ...problems] } : validation;
}

function view(w: Workflow, graph: CanvasGraph): WorkflowView {
  return {
    id: w.id,
    name: w.name,
    description: w.description,
    version: w.currentVersion,
    graph,
    validation: withSelfReferences(validateGraph(graph), graph, w.id),
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}

export function createWorkflowService(deps: {
  scope: TenantScope;
  workflows: WorkflowRepository;
  bus: InvalidationBus;
  /** Stops what a deleted workflow still has running or scheduled (server/services/workflow-deletion.ts). */
  stopEverythingOf?: (tenantId: string, workflowId: string, by: string) => Promise<void>;
}) {
  const { scope, workflows, bus } = deps;

  async function load(id: string): Promise<Workflow> {
    const w = await workflows.find(requireUuid(id, 'workflow'));
    if (!w) throw new NotFound(`workflow ${id} not found`);
    return w;
  }

  return {
    async create(tenantId: string, userId: string | null, body: { name: string; description?: string; graph: CanvasGraph }): Promise<WorkflowView> {
      return scope.run(tenantId, async () => {
        const { workflow, graph } = await workflows.create({ ...body, createdBy: userId });
        return view(workflow, graph);
      });
    },

    async get(tenantId: string, id: string): Promise<WorkflowView> {
      return scope.run(tenantId, async () => {
        const w = await load(id);
        const v = await workflows.version(w.id, w.currentVersion);
        if (!v) throw new NotFound(`workflow ${id} has no version ${w.currentVersion}`);
        return view(w, v.graph);
      });
    },

    async list(tenantId: string, filter: { search?: string; limit: number; offset: number }) {
      return scope.run(tenantId, async () => {
        const { items, total } = await workflows.list(filter);
        return {
          items: items.map((w) => ({
            id: w.id,
            name: w.name,
            description: w.description,
            version: w.currentVersion,
            createdAt: w.createdAt.toISOString(),
            updatedAt: w.updatedAt.toISOString(),
          })),
          total,
        };
      });
    },

    async update(tenantId: string, userId: string | null, id: string, body: { name?: string; description?: string; graph?: CanvasGraph }): Promise<WorkflowView> {
      return scope.run(tenantId, async () => {
        const locked = await workflows.findForUpdate(requireUuid(id, 'workflow'));
        if (!locked) throw new NotFound(`workflow ${id} not found`);
        const w = await workflows.update(locked, { ...body, updatedBy: userId });
        const v = await workflows.version(w.id, w.currentVersion);
        return view(w, v!.graph);
      });
    },

    /**
     * Deletes the workflow and keeps its history (core/workflow-deletion.ts): marked deleted first, so nothing new
     * starts it, then everything of it that runs is stopped. A repeated DELETE answers 404, as for any deleted
     * workflow, but stops again whatever a deletion that stopped half-way left running.
     */
    async remove(tenantId: string, id: string, by: string): Promise<void> {
      const workflowId = requireUuid(id, 'workflow');
      const marked = await scope.run(tenantId, () => workflows.markDeleted(workflowId));
      if (marked === 'missing') throw new NotFound(`workflow ${id} not found`);
      await deps.stopEverythingOf?.(tenantId, workflowId, by);
      if (marked === 'already') throw new NotFound(`workflow ${id} not found (it was deleted; whatever it still ran is stopped)`);
      // Its runs were just cancelled: no process may keep answering for them from what it kept.
      await bus.publish({ kind: 'workflow', tenantId, workflowId });
    },

    async versions(tenantId: string, id: string) {
      return scope.run(tenantId, async () => {
        const w = await load(id);
        const list = await workflows.versions(w.id);
        return { items: list.map((v) => ({ version: v.version, graph: v.graph, createdAt: v.createdAt.toISOString(), createdBy: v.createdBy })) };
      });
    },
  };
}

export type WorkflowService = ReturnType<typeof createWorkflowService>;
