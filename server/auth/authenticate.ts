// The authentication middleware of the API: a Bearer access token checked by passport-jwt, then the user's
// current role from the member cache (server/auth/member-cache.ts: a removed user or a changed role takes
// effect on the next request) and its session not ended by logout (session-revocations.ts, in memory); or an `X-API-Key` header, looked up by hash (a revoked key stops working at once).
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy, type VerifiedCallback } from 'passport-jwt';
import { Unauthorized } from '../../core/errors';
import { lesserRole } from '../rbac';
import type { ApiKeyRepository } from '../../db/repositories/api-keys';
import { memberOf, type Member, type MemberCache } from './member-cache';
import type { Principal } from './principal';
import type { SessionRevocations } from './session-revocations';
import type { TokenService } from './tokens';

export interface AuthenticateDeps {
  tokens: TokenService;
  members: MemberCache;
  apiKeys: ApiKeyRepository;
  sessions: Pick<SessionRevocations, 'isRevoked'>;
}

const API_KEY_HEADER = 'x-api-key';

const STRATEGY = 'jwt';

/** Why passport-jwt refused a request, in words fit for the client (never the verifier's internals). */
function failureMessage(info: unknown): string {
  if (info instanceof Error) {
    if (info.name === 'TokenExpiredError') return 'access token expired';
    if (info.message === 'No auth token') return 'missing bearer token';
  }
  return 'invalid access token';
}

/** The member an access token speaks for now; null when they left the tenant or the token's session was ended. */
export async function sessionMember(members: MemberCache, sessions: Pick<SessionRevocations, 'isRevoked'>, claimed: Principal): Promise<Member | null> {
  if (claimed.sessionId && (await sessions.isRevoked(claimed.sessionId))) return null;
  return memberOf(members, claimed.userId, claimed.tenantId);
}

export function createAuthenticate({ tokens, members, apiKeys, sessions }: AuthenticateDeps): RequestHandler {
  // An authenticator of our own rather than passport's global singleton: no shared state between apps or tests.
  const authenticator = new passport.Authenticator();

  const verify = (claims: unknown, done: VerifiedCallback): void => {
    let claimed: Principal;
    try {
      claimed = tokens.principalFromClaims(claims);
    } catch {
      done(null, false);
      return;
    }
    sessionMember(members, sessions, claimed).then(
      (user) => {
        if (!user) {
          done(null, false, new Error('user no longer exists'));
          return;
        }
        const principal: Principal = {
          userId: user.id,
          tenantId: user.tenantId,
          role: user.role,
          email: user.email,
          ...(claimed.sessionId ? { sessionId: claimed.sessionId } : {}),
        };
        done(null, principal);
      },
      (err: unknown) => done(err),
    );
  };

  const { secretOrKey, ...checks } = tokens.accessTokenVerification;
  authenticator.use(
    STRATEGY,
    // passport-jwt hands secretOrKey to jsonwebtoken, which takes a KeyObject; its types only list string | Buffer.
    new JwtStrategy({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), ...checks, secretOrKey: secretOrKey as unknown as Buffer }, verify),
  );

  async function principalOfApiKey(key: string): Promise<Principal> {
    if (key.length > 200) throw new Unauthorized('invalid API key');
    const record = await apiKeys.use(key);
    if (!record) throw new Unauthorized('invalid or revoked API key');
    // A key acts for the person who made it, never beyond them: it dies with their membership (the column is
    // set null when they are removed) and acts with at most their current role.
    const creator = record.createdBy ? await memberOf(members, record.createdBy, record.tenantId) : null;
    if (!creator) throw new Unauthorized('the member who created this API key is no longer in the tenant; the key no longer works');
    return {
      userId: creator.id,
      tenantId: record.tenantId,
      role: lesserRole(record.role, creator.role),
      email: `api-key:${record.prefix}`,
      kind: 'api_key',
      apiKeyId: record.id,
    };
  }

  return (req: Request, res: Response, next: NextFunction): void => {
    const apiKey = req.headers[API_KEY_HEADER];
    if (apiKey !== undefined) {
      if (typeof apiKey !== 'string' || req.headers.authorization) {
        next(new Unauthorized('send one X-API-Key header, or a bearer token, not both'));
        return;
      }
      principalOfApiKey(apiKey).then(
        (principal) => {
          req.user = principal;
          next();
        },
        (err: unknown) => next(err),
      );
      return;
    }
    const handle = authenticator.authenticate(STRATEGY, { session: false }, (err: unknown, user: Principal | false, info: unknown) => {
      if (err) {
        next(err);
        return;
      }
      if (!user) {
        next(new Unauthorized(failureMessage(info)));
        return;
      }
      req.user = user;
      next();
    });
    handle(req, res, next);
  };
}
