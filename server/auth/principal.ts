// Who is calling: the authenticated user of a request, as the authentication middleware sets it on
// `req.user`. Routes read it with `principalOf(req)`.
import type { Request } from 'express';
import { Unauthorized } from '../../core/errors';
import type { Role } from '../../db/entities/public';

export interface Principal {
  /** For an API key, the user who created it (what `created_by` columns record); the key itself is `apiKeyId`. */
  userId: string;
  tenantId: string;
  role: Role;
  email: string;
  /** A signed-in user, or a program calling with an `X-API-Key`; absent means a user. */
  kind?: 'user' | 'api_key';
  apiKeyId?: string;
  /** The session a user's access token belongs to (its `sid` claim, the refresh-token family); logout ends it. */
  sessionId?: string;
}

/** Who to name in `started_by`, the audit log and the like: `user:<id>` or `api_key:<id>`. */
export function actorOf(p: Principal): { type: 'user' | 'api_key'; id: string; label: string } {
  if (p.kind === 'api_key' && p.apiKeyId) return { type: 'api_key', id: p.apiKeyId, label: `api_key:${p.apiKeyId}` };
  return { type: 'user', id: p.userId, label: `user:${p.userId}` };
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
  return {
    userId: user.userId,
    tenantId: user.tenantId,
    role: user.role,
    email: user.email,
    ...(user.kind ? { kind: user.kind } : {}),
    ...(user.apiKeyId ? { apiKeyId: user.apiKeyId } : {}),
    ...(user.sessionId ? { sessionId: user.sessionId } : {}),
  };
}
