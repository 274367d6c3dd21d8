// /api/v1/workflows: create, read, list, save a version, delete, list versions, validate.
import { Router } from 'express';
import { z } from 'zod';
import { canvasGraphSchema } from '../../core/graph';
import { validateGraph } from '../../core/validate';
import { principalOf } from '../auth/principal';
import { parseWith } from '../http/validate';
import { idOf } from '../http/params';
import { requireRole } from '../rbac';
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

export function createWorkflowsRouter(deps: { workflows: WorkflowService }): Router {
  const { workflows } = deps;
  const router = Router();

  router.post('/validate', (req, res) => {
    const body = parseWith(validateBody, req.body, 'body');
    res.json(validateGraph(body.graph));
  });

  router.get('/', async (req, res) => {
    const p = principalOf(req);
    res.json(await workflows.list(p.tenantId, parseWith(listWorkflowsQuery, req.query, 'query')));
  });

  router.post('/', requireRole('editor'), async (req, res) => {
    const p = principalOf(req);
    const body = parseWith(createWorkflowBody, req.body, 'body');
    res.status(201).json(await workflows.create(p.tenantId, p.userId, body));
  });

  router.get('/:id', async (req, res) => {
    res.json(await workflows.get(principalOf(req).tenantId, idOf(req)));
  });

  router.put('/:id', requireRole('editor'), async (req, res) => {
    const p = principalOf(req);
    const body = parseWith(updateWorkflowBody, req.body, 'body');
    res.json(await workflows.update(p.tenantId, p.userId, idOf(req), body));
  });

  router.delete('/:id', requireRole('editor'), async (req, res) => {
    await workflows.remove(principalOf(req).tenantId, idOf(req));
    res.status(204).end();
  });

  router.get('/:id/versions', async (req, res) => {
    res.json(await workflows.versions(principalOf(req).tenantId, idOf(req)));
  });

  return router;
}
