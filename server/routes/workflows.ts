// /api/v1/workflows: create, read, list, save a version, delete, list versions, validate.
// Each route is declared once (server/http/route.ts), for serving and for the OpenAPI document.
import { z } from 'zod';
import { canvasGraphSchema } from '../../core/graph';
import { validateGraph } from '../../core/validate';
import { WORKFLOW_DELETION_EFFECTS } from '../../core/workflow-deletion';
import { actorOf, principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import type { WorkflowService } from '../services/workflow-service';

export const createWorkflowBody = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000).optional(),
  graph: canvasGraphSchema,
});

export const updateWorkflowBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(5000).optional(),
    graph: canvasGraphSchema.optional(),
  })
  .refine((b) => b.name !== undefined || b.description !== undefined || b.graph !== undefined, 'nothing to change');

export const listWorkflowsQuery = z.object({
  search: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const validateBody = z.object({ graph: z.unknown() });

const route = routeFor<{ workflows: WorkflowService }>();

export const workflowRoutes = [
  route({
    method: 'post',
    path: '/workflows/validate',
    summary: 'Validate a canvas graph',
    tag: 'workflows',
    role: 'viewer',
    body: validateBody,
    status: 200,
    response: 'Whether the graph is valid, with every problem found',
    handle: (_deps, { body }) => validateGraph(body.graph),
  }),
  route({
    method: 'get',
    path: '/workflows',
    summary: 'List workflows',
    tag: 'workflows',
    role: 'viewer',
    query: listWorkflowsQuery,
    status: 200,
    response: 'A page of workflows',
    handle: ({ workflows }, { req, query }) => workflows.list(principalOf(req).tenantId, query),
  }),
  route({
    method: 'post',
    path: '/workflows',
    summary: 'Create a workflow (version 1)',
    tag: 'workflows',
    role: 'editor',
    body: createWorkflowBody,
    status: 201,
    response: 'The workflow',
    handle: ({ workflows }, { req, body }) => {
      const p = principalOf(req);
      return workflows.create(p.tenantId, p.userId, body);
    },
  }),
  route({
    method: 'get',
    path: '/workflows/:id',
    summary: 'Read a workflow at its current version',
    tag: 'workflows',
    role: 'viewer',
    status: 200,
    response: 'The workflow with its graph',
    takesId: true,
    handle: ({ workflows }, { req, id }) => workflows.get(principalOf(req).tenantId, id),
  }),
  route({
    method: 'put',
    path: '/workflows/:id',
    summary: 'Save a new version',
    tag: 'workflows',
    role: 'editor',
    body: updateWorkflowBody,
    status: 200,
    response: 'The workflow at its new version',
    takesId: true,
    handle: ({ workflows }, { req, body, id }) => {
      const p = principalOf(req);
      return workflows.update(p.tenantId, p.userId, id, body);
    },
  }),
  route({
    method: 'delete',
    path: '/workflows/:id',
    summary: 'Delete a workflow; its history stays',
    description: WORKFLOW_DELETION_EFFECTS,
    tag: 'workflows',
    role: 'editor',
    status: 204,
    response: 'Deleted: its running runs cancelled, its deployments stopped, its schedules and webhooks deleted',
    takesId: true,
    audit: { action: 'workflow.delete', targetType: 'workflow' },
    handle: async ({ workflows }, { req, id }) => {
      const p = principalOf(req);
      await workflows.remove(p.tenantId, id, actorOf(p).label);
    },
  }),
  route({
    method: 'get',
    path: '/workflows/:id/versions',
    summary: 'List saved versions',
    tag: 'workflows',
    role: 'viewer',
    status: 200,
    response: "The workflow's saved versions",
    takesId: true,
    handle: ({ workflows }, { req, id }) => workflows.versions(principalOf(req).tenantId, id),
  }),
];
