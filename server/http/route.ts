// A route of the API, declared once: its method, path, least role, zod schemas and answer are what
// `mountRoutes` serves and parses with, and what server/openapi.ts documents, so the two cannot drift.
import type { Request, RequestHandler, Response, Router } from 'express';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import type { Role } from '../../db/entities/public';
import { auditOnSuccess, type AuditTrail } from '../security/audit-trail';
import { rateLimited, type RateLimiter, type RateLimits } from '../security/rate-limit';
import { requireUuid } from '../services/ids';
import { requireRole } from '../rbac';
import { idOf } from './params';
import { parseWith } from './validate';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A request header a route reads, as the OpenAPI document lists it. */
export interface HeaderParameter {
  name: string;
  description: string;
  schema: Record<string, unknown>;
}

/** What the OpenAPI document and the route-walking tests know of a route. */
export interface ApiRoute {
  method: HttpMethod;
  /** Express-style path under /api/v1, e.g. `/workflows/:id`. */
  path: string;
  summary: string;
  /** What the route does beyond its summary, in the OpenAPI document (e.g. what a delete also stops). */
  description?: string;
  tag: string;
  /** The least role needed; `null` for routes open to anyone (register, login, refresh). */
  role: Role | null;
  body?: ZodType;
  /** A request without a body reads as `{}` (the body's fields all have defaults or may be left out). */
  bodyOptional?: boolean;
  query?: ZodType;
  headers?: HeaderParameter[];
  /** The status of a successful answer. */
  status: number;
  /** What a successful answer holds, in a few words. */
  response: string;
  /** Whether the route takes a tenant-owned id (so another tenant's id must be a 404). */
  takesId?: boolean;
}

export interface RouteInput<B, Q> {
  req: Request;
  res: Response;
  /** The body, parsed with the declared schema (undefined when the route declares none). */
  body: B;
  /** The query, parsed with the declared schema (undefined when the route declares none). */
  query: Q;
  /** `:id` ('' for a route without one); lower-cased and checked to be a UUID first when the route declares `idNames`. */
  id: string;
}

/** A route served by `mountRoutes`: everything the document says, and the handler, which gets `deps`. */
export interface RouteDeclaration<D, B = unknown, Q = unknown> extends ApiRoute {
  role: Role;
  body?: ZodType<B>;
  query?: ZodType<Q>;
  /** What `:id` names ('user', 'credential'): a non-UUID id is a 404 `<what> <id> not found`, before the body is read. */
  idNames?: string;
  /** The audit log entry a successful answer writes, naming `:id` (and `:nodeId` in its details). */
  audit?: { action: string; targetType: string };
  /** A per-tenant limit counted before anything else, on top of the API-wide one (server/security/rate-limit.ts). */
  rateLimit?: keyof RateLimits;
  /**
   * Answers the request. What it returns is sent as JSON with the declared status (nothing, for a 204); a
   * handler that writes the answer itself (a download) returns nothing.
   */
  handle(deps: D, input: RouteInput<B, Q>): Promise<unknown> | unknown;
}

/**
 * `route({...})` for routes that take `deps` of type D, inferring each route's body and query types from its
 * schemas: `const route = routeFor<{ workflows: WorkflowService }>();`.
 */
export function routeFor<D>() {
  return <B = unknown, Q = unknown>(declaration: RouteDeclaration<D, B, Q>): RouteDeclaration<D, B, Q> => declaration;
}

/** What every route may use besides its own deps: the audit trail and the rate limiter. */
export interface RouteServices {
  audit: AuditTrail;
  limiter: RateLimiter;
  logger: Logger;
}

/**
 * Serves each declared route on `router` (mounted at /api/v1), in order: its rate limit, role, audit on
 * success, id, query, body, handler.
 */
export function mountRoutes<D>(router: Router, routes: readonly RouteDeclaration<D>[], deps: D, services: RouteServices): void {
  for (const route of routes) {
    const guards: RequestHandler[] = [];
    if (route.rateLimit) guards.push(rateLimited(services.limiter, route.rateLimit, (req) => req.user?.tenantId ?? null));
    // Every route behind the authenticator has at least the viewer role: no check to run for those.
    if (route.role !== 'viewer') guards.push(requireRole(route.role));
    if (route.audit) guards.push(auditOnSuccess(services.audit, services.logger, route.method.toUpperCase(), route.audit.action, route.audit.targetType));
    router[route.method](route.path, ...guards, async (req: Request, res: Response) => {
      const id = route.idNames ? requireUuid(idOf(req), route.idNames) : route.path.includes(':id') ? idOf(req) : '';
      const query = route.query ? parseWith(route.query, req.query, 'query') : undefined;
      const body = route.body ? parseWith(route.body, route.bodyOptional ? (req.body ?? {}) : req.body, 'body') : undefined;
      const answer = await route.handle(deps, { req, res, body, query, id });
      if (res.headersSent) return;
      if (answer === undefined) res.status(route.status).end();
      else res.status(route.status).json(answer);
    });
  }
}
