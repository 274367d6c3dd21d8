// Code export: GET/POST /api/v1/workflows/:id/exports lists and starts exports; /api/v1/exports reads one,
// streams its wheel and its events, cancels and deploys it; /api/v1/deployments reads and removes a deployment.
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { z } from 'zod';
import { actorOf, principalOf } from '../auth/principal';
import { idOf } from '../http/params';
import { parseWith } from '../http/validate';
import { requireRole } from '../rbac';
import type { ExportService } from '../services/export-service';
import { eventsQuery } from './executions';

export const createExportBody = z.strictObject({
  version: z.number().int().positive().optional(),
  baseImage: z.string().min(1).max(255).optional(),
});

export const createDeploymentBody = z.strictObject({
  mode: z.enum(['oneshot', 'service']).default('oneshot'),
  inputs: z.record(z.string(), z.unknown()).default({}),
  decision: z.enum(['approve', 'reject']).optional(),
  baseImage: z.string().min(1).max(255).optional(),
  port: z.number().int().min(1024).max(65535).default(8080),
});

export const listExportsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export function createStartExportRouter(deps: { exports: ExportService }): Router {
  const router = Router({ mergeParams: true });
  router.get('/:id/exports', async (req, res) => {
    const q = parseWith(listExportsQuery, req.query, 'query');
    res.json(await deps.exports.list(principalOf(req).tenantId, idOf(req), q.limit));
  });
  router.post('/:id/exports', requireRole('editor'), async (req, res) => {
    const p = principalOf(req);
    const body = parseWith(createExportBody, req.body ?? {}, 'body');
    const created = await deps.exports.create(p.tenantId, actorOf(p).label, idOf(req), body);
    res.status(202).set('Location', `/api/v1/exports/${created.id}`).json({ id: created.id, status: created.status, export: created });
  });
  return router;
}

export function createExportsRouter(deps: { exports: ExportService }): Router {
  const router = Router();
  router.get('/:id', async (req, res) => {
    res.json(await deps.exports.get(principalOf(req).tenantId, idOf(req)));
  });
  router.get('/:id/events', async (req, res) => {
    const q = parseWith(eventsQuery, req.query, 'query');
    res.json(await deps.exports.events(principalOf(req).tenantId, idOf(req), q.after, q.limit));
  });
  router.get('/:id/download', async (req, res) => {
    const wheel = await deps.exports.download(principalOf(req).tenantId, idOf(req));
    res.status(200);
    res.set({
      'Content-Type': 'application/zip',
      'Content-Length': String(wheel.sizeBytes),
      // Wheel names are [A-Za-z0-9_.-]+ by construction, so the plain filename form is safe.
      'Content-Disposition': `attachment; filename="${wheel.wheelFile}"`,
      'X-Checksum-Sha256': wheel.sha256,
      Digest: `sha-256=${Buffer.from(wheel.sha256, 'hex').toString('base64')}`,
      ETag: `"${wheel.sha256}"`,
    });
    // pipeline, not pipe: a client that goes away mid-download closes the file too (pipe kept it open, and
    // this handler waiting, for good), and a read error ends the response instead of hanging it.
    await pipeline(wheel.stream, res).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE') return; // the client left: nothing to answer
      throw err;
    });
  });
  router.post('/:id/cancel', requireRole('editor'), async (req, res) => {
    res.status(202).json(await deps.exports.cancel(principalOf(req).tenantId, idOf(req)));
  });
  router.post('/:id/deployments', requireRole('editor'), async (req, res) => {
    const p = principalOf(req);
    const body = parseWith(createDeploymentBody, req.body ?? {}, 'body');
    const deployment = await deps.exports.deploy(p.tenantId, actorOf(p).label, idOf(req), body);
    res.status(202).set('Location', `/api/v1/deployments/${deployment.id}`).json(deployment);
  });
  return router;
}

export function createDeploymentsRouter(deps: { exports: ExportService }): Router {
  const router = Router();
  router.get('/:id', async (req, res) => {
    res.json(await deps.exports.getDeployment(principalOf(req).tenantId, idOf(req)));
  });
  router.delete('/:id', requireRole('editor'), async (req, res) => {
    res.json(await deps.exports.removeDeployment(principalOf(req).tenantId, idOf(req)));
  });
  return router;
}
