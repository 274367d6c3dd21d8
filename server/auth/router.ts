// The /auth routes: register, login, refresh, logout and me. Bodies are checked against the schemas
// exported here, which the OpenAPI document is generated from too.
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { newPasswordSchema } from './password-policy';
import { jsonBody } from '../http/json-body';
import { parseWith } from '../http/validate';
import { principalOf, type Principal } from './principal';
import type { AuthService } from './service';

export const registerBodySchema = z.object({
  tenantName: z.string().trim().min(1).max(100),
  // Trimmed before the format check: a stray blank from a paste should not fail sign-up.
  email: z.string().trim().pipe(z.email().max(254)),
  password: newPasswordSchema,
  name: z.string().trim().max(100).optional(),
});
export type RegisterBody = z.infer<typeof registerBodySchema>;

export const loginBodySchema = z.object({
  // Not z.email(): a malformed address simply matches no account, and gets the same answer as any unknown one.
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(200),
  tenant: z.string().min(1).max(100).optional(),
});
export type LoginBody = z.infer<typeof loginBodySchema>;

export const refreshBodySchema = z.object({
  refreshToken: z.string().min(1).max(200),
});
export type RefreshBody = z.infer<typeof refreshBodySchema>;

export const logoutBodySchema = z.object({
  /** The session to end; without it, every session of the caller ends. */
  refreshToken: z.string().min(1).max(200).optional(),
});
export type LogoutBody = z.infer<typeof logoutBodySchema>;

/** An auth event worth an audit log entry, reported after it succeeded. */
export interface AuthEvent {
  action: 'auth.register' | 'auth.login' | 'auth.logout';
  tenantId: string;
  principal: Principal;
  req: Request;
}

export interface AuthRouterDeps {
  auth: AuthService;
  authenticate: RequestHandler;
  /** Runs before register and login, with the body parsed (the rate limit per IP). */
  attemptGuard?: RequestHandler;
  /** Runs before register only (the rate limit per email; login's limits per email are the service's LoginThrottle). */
  registerGuard?: RequestHandler;
  onEvent?: (event: AuthEvent) => Promise<void>;
}

export function createAuthRouter({ auth, authenticate, attemptGuard, registerGuard, onEvent }: AuthRouterDeps): Router {
  const router = Router();
  router.use(jsonBody({ limit: '16kb' }));
  const guard: RequestHandler[] = attemptGuard ? [attemptGuard] : [];
  const signUpGuard: RequestHandler[] = [...guard, ...(registerGuard ? [registerGuard] : [])];
  // The client an attempt comes from: the source address, as TRUST_PROXY lets Express see it.
  const sourceOf = (req: Request) => ({ client: req.ip ?? 'unknown' });
  const report = async (action: AuthEvent['action'], principal: Principal, req: Request): Promise<void> => {
    if (onEvent) await onEvent({ action, tenantId: principal.tenantId, principal, req });
  };

  router.post('/register', ...signUpGuard, async (req, res) => {
    const body = parseWith(registerBodySchema, req.body, 'body');
    const session = await auth.register(body, sourceOf(req));
    await report('auth.register', { userId: session.user.id, tenantId: session.tenant.id, role: session.user.role, email: session.user.email, kind: 'user' }, req);
    res.status(201).json(session);
  });

  router.post('/login', ...guard, async (req, res) => {
    const body = parseWith(loginBodySchema, req.body, 'body');
    const session = await auth.login(body, sourceOf(req));
    await report('auth.login', { userId: session.user.id, tenantId: session.tenant.id, role: session.user.role, email: session.user.email, kind: 'user' }, req);
    res.status(200).json(session);
  });

  router.post('/refresh', async (req, res) => {
    const { refreshToken } = parseWith(refreshBodySchema, req.body, 'body');
    res.status(200).json(await auth.refresh(refreshToken));
  });

  router.post('/logout', authenticate, async (req, res) => {
    // A logout with no body at all is a plain "end all my sessions".
    const { refreshToken } = parseWith(logoutBodySchema, req.body ?? {}, 'body');
    await auth.logout(principalOf(req), refreshToken);
    await report('auth.logout', principalOf(req), req);
    res.status(204).end();
  });

  router.get('/me', authenticate, async (req, res) => {
    res.status(200).json(await auth.me(principalOf(req)));
  });

  return router;
}
