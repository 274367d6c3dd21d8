// Deployments: POST /api/v1/exports/:id/deployments deploys a finished export in Docker (one-shot or as a
// service); /api/v1/deployments/:id reads and removes one. Each route is declared once
// (server/http/route.ts), for serving and for the OpenAPI document.
import { z } from 'zod';
import { actorOf, principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import type { DeploymentService } from '../services/deployment-service';

export const createDeploymentBody = z.strictObject({
  mode: z.enum(['oneshot', 'service']).default('oneshot'),
  inputs: z.record(z.string(), z.unknown()).default({}),
  decision: z.enum(['approve', 'reject']).optional(),
  baseImage: z.string().min(1).max(255).optional(),
  port: z.number().int().min(1024).max(65535).default(8080),
});

const route = routeFor<{ deployments: DeploymentService }>();

export const deploymentRoutes = [
  route({
    method: 'post',
    path: '/exports/:id/deployments',
    summary: 'Deploy an export in Docker (one-shot or service)',
    tag: 'deployments',
    role: 'editor',
    body: createDeploymentBody,
    bodyOptional: true,
    status: 202,
    response: 'The deployment, started (Location: the deployment)',
    takesId: true,
    handle: async ({ deployments }, { req, res, body, id }) => {
      const p = principalOf(req);
      const deployment = await deployments.deploy(p.tenantId, actorOf(p).label, id, body);
      res.set('Location', `/api/v1/deployments/${deployment.id}`);
      return deployment;
    },
  }),
  route({
    method: 'get',
    path: '/deployments/:id',
    summary: 'Read a deployment: status, outputs, logs, port',
    tag: 'deployments',
    role: 'viewer',
    status: 200,
    response: 'The deployment',
    takesId: true,
    handle: ({ deployments }, { req, id }) => deployments.get(principalOf(req).tenantId, id),
  }),
  route({
    method: 'delete',
    path: '/deployments/:id',
    summary: 'Stop and remove a deployment',
    tag: 'deployments',
    role: 'editor',
    status: 200,
    response: 'The deployment as it stands once stopped (or once the wait ran out)',
    takesId: true,
    audit: { action: 'deployment.delete', targetType: 'deployment' },
    handle: ({ deployments }, { req, id }) => deployments.remove(principalOf(req).tenantId, id),
  }),
];
