// Code export: GET/POST /api/v1/workflows/:id/exports lists and starts exports; /api/v1/exports reads one,
// streams its wheel and its events, cancels it (deploying it is server/routes/deployments.ts). Each route is
// declared once (server/http/route.ts), for serving and for the OpenAPI document.
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { actorOf, principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import type { ExportService } from '../services/export-service';
import { eventsQuery } from './executions';

export const createExportBody = z.strictObject({
  version: z.number().int().positive().optional(),
  baseImage: z.string().min(1).max(255).optional(),
});

export const listExportsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const route = routeFor<{ exports: ExportService }>();

export const exportRoutes = [
  route({
    method: 'get',
    path: '/workflows/:id/exports',
    summary: "A workflow's exports, newest first (without build logs)",
    tag: 'exports',
    role: 'viewer',
    query: listExportsQuery,
    status: 200,
    response: "The workflow's exports",
    takesId: true,
    handle: ({ exports }, { req, query, id }) => exports.list(principalOf(req).tenantId, id, query.limit),
  }),
  route({
    method: 'post',
    path: '/workflows/:id/exports',
    summary: 'Export a workflow version as a Python package (wheel)',
    tag: 'exports',
    role: 'editor',
    body: createExportBody,
    bodyOptional: true,
    status: 202,
    response: 'The export, started (Location: the export)',
    takesId: true,
    handle: async ({ exports }, { req, res, body, id }) => {
      const p = principalOf(req);
      const created = await exports.create(p.tenantId, actorOf(p).label, id, body);
      res.set('Location', `/api/v1/exports/${created.id}`);
      return { id: created.id, status: created.status, export: created };
    },
  }),
  route({
    method: 'get',
    path: '/exports/:id',
    summary: 'Read an export: status, wheel, checksum, build log',
    tag: 'exports',
    role: 'viewer',
    status: 200,
    response: 'The export',
    takesId: true,
    handle: ({ exports }, { req, id }) => exports.get(principalOf(req).tenantId, id),
  }),
  route({
    method: 'get',
    path: '/exports/:id/events',
    summary: 'Stored export events after a sequence number',
    tag: 'exports',
    role: 'viewer',
    query: eventsQuery,
    status: 200,
    response: "The export's events after `after`, in order",
    takesId: true,
    handle: ({ exports }, { req, query, id }) => exports.events(principalOf(req).tenantId, id, query.after, query.limit),
  }),
  route({
    method: 'get',
    path: '/exports/:id/download',
    summary: 'Download the wheel (X-Checksum-Sha256 header)',
    tag: 'exports',
    role: 'viewer',
    status: 200,
    response: 'The wheel file (application/zip)',
    takesId: true,
    handle: async ({ exports }, { req, res, id }) => {
      const wheel = await exports.download(principalOf(req).tenantId, id);
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
    },
  }),
  route({
    method: 'post',
    path: '/exports/:id/cancel',
    summary: 'Cancel an unfinished export (409 once it has finished)',
    tag: 'exports',
    role: 'editor',
    status: 202,
    response: 'The export, its cancellation recorded or on its way',
    takesId: true,
    handle: ({ exports }, { req, id }) => exports.cancel(principalOf(req).tenantId, id),
  }),
];
