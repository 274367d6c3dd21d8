// Access tokens (short-lived HS256 JWTs carrying the principal) and refresh tokens (random, stored only
// as a sha256 hash, rotated on every use; reusing a rotated token revokes its whole family).
import { createHash, createSecretKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { Unauthorized } from '../../core/errors';
import { ROLES } from '../../db/entities/public';
import type { AccountRepository } from '../../db/repositories/accounts';
import type { Principal } from './principal';

export const TOKEN_ISSUER = 'tessera';
export const TOKEN_AUDIENCE = 'tessera-api';
const ALGORITHM = 'HS256';
export const DEFAULT_ACCESS_TTL_SECONDS = 900;

/** The claims of an access token, as `verifyAccessToken` (or any JWT verifier) hands them over. */
const accessClaimsSchema = z.object({
  sub: z.uuid(),
  tid: z.uuid(),
  role: z.enum(ROLES),
  email: z.string().min(1),
  // jsonwebtoken accepts a token without `exp` as never expiring; every token we sign has one, so one without
  // it was not signed by us for this purpose.
  exp: z.number().int(),
  // The session (refresh-token family) the token was issued to; tokens signed before sessions were named lack it.
  sid: z.uuid().optional(),
});

/** Everything a JWT verifier (passport-jwt's Strategy) needs to check an access token as this service does. */
export interface AccessTokenVerification {
  /**
   * The secret as a KeyObject: given a string, jsonwebtoken first tries it as a public key and builds the secret
   * key only after that throws, on every verify (a sixth of the API's CPU under load, measured in issue 10).
   */
  secretOrKey: KeyObject;
  issuer: string;
  audience: string;
  algorithms: ['HS256'];
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

export interface TokenService {
  readonly accessTokenVerification: AccessTokenVerification;
  signAccessToken(principal: Principal): string;
  /** The principal of a valid access token; Unauthorized when it is malformed, forged or expired. */
  verifyAccessToken(token: string): Principal;
  /** Turns the verified claims of an access token into a principal; Unauthorized when they are not ours. */
  principalFromClaims(claims: unknown): Principal;
  /** A new refresh token in `familyId` (a new family, i.e. a new session, when omitted). */
  issueRefreshToken(principal: Principal, familyId?: string): Promise<string>;
  /** Spends a refresh token: a new pair in the same family, for the user's current role. */
  rotateRefreshToken(token: string): Promise<TokenPair & { principal: Principal }>;
  /** Ends the session a refresh token belongs to (its whole family) and names it; unknown tokens are ignored (null). */
  revokeRefreshToken(token: string, ownedBy?: { userId: string }): Promise<string | null>;
}

export interface TokenServiceOptions {
  jwtSecret: string;
  accessTtlSeconds?: number;
  refreshTtlSeconds?: number;
  accounts: AccountRepository;
  /** The clock for signing, verifying and refresh-token expiry; tests move it. */
  now?: () => Date;
}

function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function createTokenService(options: TokenServiceOptions): TokenService {
  const { jwtSecret, accounts } = options;
  const verificationKey = createSecretKey(Buffer.from(jwtSecret));
  const accessTtlSeconds = options.accessTtlSeconds ?? DEFAULT_ACCESS_TTL_SECONDS;
  const refreshTtlSeconds = options.refreshTtlSeconds ?? 7 * 24 * 3600;
  const now = options.now ?? (() => new Date());
  const nowSeconds = (): number => Math.floor(now().getTime() / 1000);

  function principalFromClaims(claims: unknown): Principal {
    const parsed = accessClaimsSchema.safeParse(claims);
    if (!parsed.success) throw new Unauthorized('invalid access token');
    const { sub, tid, role, email, sid } = parsed.data;
    return { userId: sub, tenantId: tid, role, email, ...(sid ? { sessionId: sid } : {}) };
  }

  async function issueRefreshToken(principal: Principal, familyId: string = randomUUID()): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await accounts.insertRefreshToken({
      userId: principal.userId,
      tenantId: principal.tenantId,
      familyId,
      tokenHash: hashRefreshToken(token),
      expiresAt: new Date(now().getTime() + refreshTtlSeconds * 1000),
    });
    return token;
  }

  function signAccessToken(principal: Principal): string {
    const iat = nowSeconds();
    const claims = {
      sub: principal.userId,
      tid: principal.tenantId,
      role: principal.role,
      email: principal.email,
      ...(principal.sessionId ? { sid: principal.sessionId } : {}),
      iat,
      exp: iat + accessTtlSeconds,
    };
    return jwt.sign(claims, jwtSecret, { algorithm: ALGORITHM, issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
  }

  return {
    accessTokenVerification: { secretOrKey: verificationKey, issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, algorithms: [ALGORITHM] },

    signAccessToken,
    principalFromClaims,
    issueRefreshToken,

    verifyAccessToken(token) {
      let claims: unknown;
      try {
        claims = jwt.verify(token, verificationKey, {
          algorithms: [ALGORITHM],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          clockTimestamp: nowSeconds(),
        });
      } catch (err) {
        throw new Unauthorized(err instanceof jwt.TokenExpiredError ? 'access token expired' : 'invalid access token');
      }
      return principalFromClaims(claims);
    },

    async rotateRefreshToken(token) {
      const row = await accounts.findRefreshToken(hashRefreshToken(token));
      if (!row) throw new Unauthorized('invalid refresh token');
      if (row.revokedAt) {
        // A rotated-out token came back: either its owner or a thief holds a copy. We cannot tell which,
        // so the session ends for both.
        await accounts.revokeFamily(row.familyId);
        throw new Unauthorized('refresh token was already used; the session has been revoked');
      }
      if (row.expiresAt.getTime() <= now().getTime()) throw new Unauthorized('refresh token expired');
      if (!(await accounts.revokeRefreshToken(row.id))) {
        // Two requests spent the same token at once; treat the loser as reuse.
        await accounts.revokeFamily(row.familyId);
        throw new Unauthorized('refresh token was already used; the session has been revoked');
      }
      // The role may have changed since the token was issued: the new pair carries the current one.
      const user = await accounts.findUser(row.userId);
      if (!user || user.tenantId !== row.tenantId) {
        await accounts.revokeFamily(row.familyId);
        throw new Unauthorized('invalid refresh token');
      }
      const principal: Principal = { userId: user.id, tenantId: user.tenantId, role: user.role, email: user.email, sessionId: row.familyId };
      const refreshToken = await issueRefreshToken(principal, row.familyId);
      return { accessToken: signAccessToken(principal), refreshToken, principal };
    },

    async revokeRefreshToken(token, ownedBy) {
      const row = await accounts.findRefreshToken(hashRefreshToken(token));
      if (!row) return null;
      // Holding a token already lets one end its session, but a logged-in user should only end their own.
      if (ownedBy && row.userId !== ownedBy.userId) return null;
      await accounts.revokeFamily(row.familyId);
      return row.familyId;
    },
  };
}
