// /api/v1/users: the members of the caller's tenant. Admins and owners manage them; see MemberService
// for who may touch whom.
import { Router } from 'express';
import { z } from 'zod';
import { ROLES } from '../../db/entities/public';
import { principalOf } from '../auth/principal';
import { idOf } from '../http/params';
import { requireUuid } from '../services/ids';
import { parseWith } from '../http/validate';
import { requireRole } from '../rbac';
import type { AuditTrail } from '../security/audit-trail';
import type { MemberService } from '../services/member-service';

export const addUserBody = z.object({
  email: z.string().trim().pipe(z.email().max(254)),
  name: z.string().trim().max(100).optional(),
  /** The member's first password, handed over by the admin out of band. */
  password: z.string().min(8, 'the password needs at least 8 characters').max(200, 'the password is longer than 200 characters'),
  role: z.enum(ROLES),
});

export const changeUserBody = z
  .object({ role: z.enum(ROLES).optional(), name: z.string().trim().min(1).max(100).optional() })
  .strict()
  .refine((b) => b.role !== undefined || b.name !== undefined, 'nothing to change');

export function createUsersRouter(deps: { members: MemberService; audit: AuditTrail }): Router {
  const { members, audit } = deps;
  const router = Router();
  router.use(requireRole('admin'));

  router.get('/', async (req, res) => {
    res.json({ users: await members.list(principalOf(req)) });
  });

  router.post('/', async (req, res) => {
    const p = principalOf(req);
    const body = parseWith(addUserBody, req.body, 'body');
    const user = await members.add(p, body);
    await audit.record(p.tenantId, p, req, { action: 'user.add', targetType: 'user', targetId: user.id, details: { role: user.role } });
    res.status(201).json(user);
  });

  router.patch('/:id', async (req, res) => {
    const p = principalOf(req);
    const id = requireUuid(idOf(req), 'user');
    const body = parseWith(changeUserBody, req.body, 'body');
    const { before, after } = await members.change(p, id, body);
    if (before.role !== after.role) {
      await audit.record(p.tenantId, p, req, { action: 'user.role_change', targetType: 'user', targetId: id, details: { from: before.role, to: after.role } });
    }
    res.json(after);
  });

  router.delete('/:id', async (req, res) => {
    const p = principalOf(req);
    const removed = await members.remove(p, requireUuid(idOf(req), 'user'));
    await audit.record(p.tenantId, p, req, { action: 'user.remove', targetType: 'user', targetId: removed.id, details: { role: removed.role } });
    res.status(204).end();
  });

  return router;
}
