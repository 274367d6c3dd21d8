// Who is calling: the authenticated user of a request, as the authentication middleware sets it on
// `req.user`. Routes read it with `principalOf(req)`.
import type { Request } from 'express';
import { Unauthorized } from '../../core/errors';
import type { Role } from '../../db/entities/public';

export interface Principal {
  userId: string;
  tenantId: string;
  role: Role;
  email: string;
}

declare global {
  // passport declares `req.user` as `Express.User`; merging Principal into it types `req.user` for every route.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends Principal {}
  }
}

/** The caller of an authenticated route; throws Unauthorized when no authentication middleware ran before it. */
export function principalOf(req: Request): Principal {
  const user = req.user;
  if (!user) throw new Unauthorized('authentication required');
  return { userId: user.userId, tenantId: user.tenantId, role: user.role, email: user.email };
}
