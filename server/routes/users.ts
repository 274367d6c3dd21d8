// /api/v1/users: the members of the caller's tenant. Admins and owners manage them; see MemberService
// for who may touch whom.
import { z } from 'zod';
import { newPasswordSchema } from '../auth/password-policy';
import { ROLES } from '../../db/entities/public';
import { principalOf } from '../auth/principal';
import { routeFor } from '../http/route';
import type { AuditTrail } from '../security/audit-trail';
import type { MemberService } from '../services/member-service';

export const addUserBody = z.object({
  email: z.string().trim().pipe(z.email().max(254)),
  name: z.string().trim().max(100).optional(),
  /** The member's first password, handed over by the admin out of band. */
  password: newPasswordSchema,
  role: z.enum(ROLES),
});

export const changeUserBody = z
  .object({ role: z.enum(ROLES).optional(), name: z.string().trim().min(1).max(100).optional() })
  .strict()
  .refine((b) => b.role !== undefined || b.name !== undefined, 'nothing to change');

const route = routeFor<{ members: MemberService; audit: AuditTrail }>();

export const userRoutes = [
  route({
    method: 'get',
    path: '/users',
    summary: 'List the members of the tenant',
    tag: 'users',
    role: 'admin',
    status: 200,
    response: 'The members',
    handle: async ({ members }, { req }) => ({ users: await members.list(principalOf(req)) }),
  }),
  route({
    method: 'post',
    path: '/users',
    summary: 'Add a member (only owners add owners)',
    tag: 'users',
    role: 'admin',
    body: addUserBody,
    status: 201,
    response: 'The member',
    handle: async ({ members, audit }, { req, body }) => {
      const p = principalOf(req);
      const user = await members.add(p, body);
      await audit.record(p.tenantId, p, req, { action: 'user.add', targetType: 'user', targetId: user.id, details: { role: user.role } });
      return user;
    },
  }),
  route({
    method: 'patch',
    path: '/users/:id',
    summary: "Change a member's role or name (only owners touch owners)",
    tag: 'users',
    role: 'admin',
    idNames: 'user',
    body: changeUserBody,
    status: 200,
    response: 'The member as changed',
    takesId: true,
    handle: async ({ members, audit }, { req, body, id }) => {
      const p = principalOf(req);
      const { before, after } = await members.change(p, id, body);
      if (before.role !== after.role) {
        await audit.record(p.tenantId, p, req, { action: 'user.role_change', targetType: 'user', targetId: id, details: { from: before.role, to: after.role } });
      }
      return after;
    },
  }),
  route({
    method: 'delete',
    path: '/users/:id',
    summary: 'Remove a member; their sessions end at once',
    tag: 'users',
    role: 'admin',
    idNames: 'user',
    status: 204,
    response: 'Removed',
    takesId: true,
    handle: async ({ members, audit }, { req, id }) => {
      const p = principalOf(req);
      const removed = await members.remove(p, id);
      await audit.record(p.tenantId, p, req, { action: 'user.remove', targetType: 'user', targetId: removed.id, details: { role: removed.role } });
    },
  }),
];
