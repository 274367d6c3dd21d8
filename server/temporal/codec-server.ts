// Temporal's remote codec protocol (`POST …/decode` and `…/encode` with `{payloads: [...]}` in protobuf JSON)
// at /api/v1/temporal-codec, so the Temporal UI and CLI show a run's payloads to whoever may read them: an
// owner or admin of the payload's tenant, or the platform operator (TEMPORAL_CODEC_OPERATOR_TOKEN). Any
// other tenant's payload is refused as not found, the whole request with it (docs/security.md "Temporal payloads").
import { timingSafeEqual } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import cors from 'cors';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { AppError, Forbidden, NotFound, Unauthorized } from '../../core/errors';
import { PayloadCodecError, tenantOfTemporalId, type TenantPayloadCodec } from '../../db/temporal-payload-codec';
import { principalOf, type Principal } from '../auth/principal';
import { jsonBody } from '../http/json-body';
import { parseWith } from '../http/validate';
import { hasRole } from '../rbac';

/** The browser's credential for the codec: an HttpOnly cookie sent to this path only. */
export const CODEC_COOKIE = 'tessera_temporal_codec';
export const CODEC_PATH = '/api/v1/temporal-codec';
/** An operator's encode names the tenant to encrypt for (the protocol carries no workflow id). */
const TENANT_HEADER = 'x-tessera-tenant-id';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const bytes = z.string().max(8 * 1024 * 1024).regex(BASE64, 'must be base64');
const PAYLOADS_BODY = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), bytes).optional(), data: bytes.optional() })).max(1000),
});
type JsonPayload = z.infer<typeof PAYLOADS_BODY>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** Who may read payloads: the operator reads every tenant's, an owner or admin their own tenant's. */
type Entitlement = { operator: true } | { operator: false; tenantId: string };

export interface CodecServerDeps {
  codec: TenantPayloadCodec;
  /** The API's authenticator (bearer token or X-API-Key). */
  authenticate: RequestHandler;
  /** Checks an access token as the API does (the cookie holds one). */
  verifyToken(token: string): Promise<Principal>;
  /** TEMPORAL_CODEC_OPERATOR_TOKEN; absent: no operator credential exists. */
  operatorToken?: string;
  /** The Temporal UI's origin (TEMPORAL_UI_URL), the one origin whose pages may call the codec with the cookie. */
  uiOrigin: string;
  /** How long the cookie lives: the access token's lifetime. */
  cookieMaxAgeSeconds: number;
  /** Production sends the cookie over HTTPS only. */
  secureCookie: boolean;
}

function bearerOf(req: Request): string | null {
  const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1]?.trim() ?? null;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The one cookie the codec reads; the request's Cookie header may carry others of the site. */
function cookieOf(req: Request): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CODEC_COOKIE) return decodeURIComponent(value.join('='));
  }
  return null;
}

export function createCodecServer(deps: CodecServerDeps): Router {
  const router = Router();
  router.use(cors({ origin: [deps.uiOrigin], credentials: true, methods: ['POST', 'DELETE'], maxAge: 600 }));
  router.use(jsonBody({ limit: '16mb' }));

  const member = (req: Request, res: Response): Promise<Principal> =>
    new Promise((resolve, reject) => {
      deps.authenticate(req, res, (err?: unknown) => (err ? reject(err) : resolve(principalOf(req))));
    });

  async function entitlement(req: Request, res: Response): Promise<Entitlement> {
    const bearer = bearerOf(req);
    if (deps.operatorToken && bearer && sameSecret(bearer, deps.operatorToken)) return { operator: true };
    let principal: Principal;
    if (bearer || req.headers['x-api-key'] !== undefined) principal = await member(req, res);
    else {
      const token = cookieOf(req);
      if (!token) throw new Unauthorized(`send a bearer token, an X-API-Key or the ${CODEC_COOKIE} cookie (POST ${CODEC_PATH}/session)`);
      principal = await deps.verifyToken(token);
    }
    if (!hasRole(principal.role, 'admin')) throw new Forbidden(`reading Temporal payloads needs the admin role or higher; you are ${principal.role}`);
    return { operator: false, tenantId: principal.tenantId };
  }

  const handle =
    (work: (req: Request, res: Response) => Promise<void>): RequestHandler =>
    (req, res, next) => {
      work(req, res).catch((err: unknown) => {
        next(err instanceof PayloadCodecError ? new AppError('PAYLOAD_UNREADABLE', 400, err.message) : err);
      });
    };

  // The protocol allows any prefix; only the last segment says what to do.
  router.post(
    '/decode',
    handle(async (req, res) => {
      const who = await entitlement(req, res);
      const payloads = parseWith(PAYLOADS_BODY, req.body, 'body').payloads.map(fromJson);
      if (!who.operator) {
        const foreign = payloads.findIndex((p) => (deps.codec.tenantOf(p) ?? who.tenantId) !== who.tenantId);
        if (foreign >= 0) throw new NotFound('no such payload in your tenant', { index: foreign });
      }
      res.json({ payloads: payloads.map((p) => toJson(deps.codec.open(p))) });
    }),
  );

  router.post(
    '/encode',
    handle(async (req, res) => {
      const who = await entitlement(req, res);
      const payloads = parseWith(PAYLOADS_BODY, req.body, 'body').payloads.map(fromJson);
      let tenantId: string | null;
      if (who.operator) {
        const named = req.headers[TENANT_HEADER];
        tenantId = typeof named === 'string' ? tenantOfTemporalId(`tenant/${named}/`) : null;
        if (named !== undefined && !tenantId) throw new AppError('INVALID_TENANT_ID', 400, `${TENANT_HEADER} must be a tenant id`);
      } else tenantId = who.tenantId;
      // An operator who names no tenant gets the payloads back as they are: the worker reads plain payloads too.
      res.json({ payloads: payloads.map((p) => toJson(tenantId ? deps.codec.seal(p, tenantId) : p)) });
    }),
  );

  // The browser's credential: a signed-in owner or admin exchanges their bearer token for the cookie, which
  // the Temporal UI sends once "Include cross-origin credentials" is on in its codec settings.
  router.post(
    '/session',
    handle(async (req, res) => {
      const bearer = bearerOf(req);
      if (!bearer) throw new Unauthorized('send the access token as a bearer token');
      const principal = await member(req, res);
      if (!hasRole(principal.role, 'admin')) throw new Forbidden(`reading Temporal payloads needs the admin role or higher; you are ${principal.role}`);
      res.cookie(CODEC_COOKIE, bearer, {
        httpOnly: true,
        sameSite: 'strict',
        path: CODEC_PATH,
        secure: deps.secureCookie,
        maxAge: deps.cookieMaxAgeSeconds * 1000,
      });
      res.status(204).end();
    }),
  );
  router.delete('/session', (_req, res) => {
    res.clearCookie(CODEC_COOKIE, { path: CODEC_PATH, httpOnly: true, sameSite: 'strict', secure: deps.secureCookie });
    res.status(204).end();
  });
  return router;
}
