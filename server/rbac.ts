// Role checks for routes: roles are ranked owner > admin > editor > viewer, and a route names the
// least role it needs.
import type { RequestHandler } from 'express';
import { Forbidden } from '../core/errors';
import type { Role } from '../db';
import { principalOf } from './auth/principal';

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

export function hasRole(role: Role, least: Role): boolean {
  return RANK[role] >= RANK[least];
}

/** The lower of two roles: what an API key may do is its own role, capped by its creator's current one. */
export function lesserRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

export function requireRole(least: Role): RequestHandler {
  return (req, _res, next) => {
    const p = principalOf(req);
    if (!hasRole(p.role, least)) {
      next(new Forbidden(`this needs the ${least} role or higher; you are ${p.role}`));
      return;
    }
    next();
  };
}
