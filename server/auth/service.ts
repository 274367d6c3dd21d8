// Sign-up, sign-in and sessions: registering a tenant with its owner, logging in to one of an email's
// memberships, refreshing and ending sessions, and describing the caller.
import { randomBytes, randomUUID } from 'node:crypto';
import { AppError, Unauthorized } from '../../core/errors';
import type { Role, Tenant, User } from '../../db/entities/public';
import { SlugTakenError, type AccountRepository } from '../../db/repositories/accounts';
import type { KdfQueue } from './kdf-queue';
import type { LoginThrottle } from './login-throttle';
import { hashPassword, verifyDecoyPassword, verifyPassword } from './passwords';
import type { Principal } from './principal';
import type { SessionRevocations } from './session-revocations';
import type { TokenPair, TokenService } from './tokens';

export interface UserView {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export interface TenantView {
  id: string;
  slug: string;
  name: string;
}

export interface Session extends TokenPair {
  user: UserView;
  tenant: TenantView;
}

export interface RegisterInput {
  tenantName: string;
  email: string;
  password: string;
  name?: string;
}

export interface LoginInput {
  email: string;
  password: string;
  /** The slug of the tenant to log in to; needed only when the email belongs to several. */
  tenant?: string;
}

/** Who is signing in, as far as the server can tell: the source address (TRUST_PROXY decides whose it believes). */
export interface AttemptSource {
  client: string;
}

export interface AuthService {
  register(input: RegisterInput, source: AttemptSource): Promise<Session>;
  login(input: LoginInput, source: AttemptSource): Promise<Session>;
  refresh(refreshToken: string): Promise<TokenPair>;
  /**
   * Ends the caller's session and the session of `refreshToken`, or every session of the caller when none is given:
   * their refresh tokens, their access tokens and their open sockets, on every API process.
   */
  logout(principal: Principal, refreshToken?: string): Promise<void>;
  me(principal: Principal): Promise<{ user: UserView; tenant: TenantView }>;
}

export interface AuthServiceDeps {
  accounts: AccountRepository;
  tokens: TokenService;
  sessions: SessionRevocations;
  kdf: KdfQueue;
  throttle: LoginThrottle;
}

const SLUG_MAX_LENGTH = 48;
// Past this many numbered candidates a random suffix finds a free slug without walking the whole sequence.
const NUMBERED_SLUG_ATTEMPTS = 20;
const PROVISION_ATTEMPTS = 5;

/** Emails are compared case-insensitively and without surrounding blanks. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Lowercase ASCII words joined by dashes ("Café Ω" → "cafe"); "tenant" when nothing ASCII is left. */
export function slugBase(tenantName: string): string {
  const slug = tenantName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // the accents NFKD split off their letters
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, SLUG_MAX_LENGTH)
    .replace(/^-+|-+$/g, '');
  return slug || 'tenant';
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === '23505';
}

function userView(user: User): UserView {
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

function tenantView(tenant: Tenant): TenantView {
  return { id: tenant.id, slug: tenant.slug, name: tenant.name };
}

function principalOfUser(user: User): Principal {
  return { userId: user.id, tenantId: user.tenantId, role: user.role, email: user.email };
}

function invalidCredentials(): AppError {
  // One message for an unknown email and a wrong password, so the answer does not reveal which accounts exist.
  return new AppError('INVALID_CREDENTIALS', 401, 'email or password is incorrect');
}

export function createAuthService({ accounts, tokens, sessions, kdf, throttle }: AuthServiceDeps): AuthService {
  async function freeSlug(base: string): Promise<string> {
    for (let n = 1; n <= NUMBERED_SLUG_ATTEMPTS; n++) {
      const candidate = n === 1 ? base : `${base}-${n}`;
      if (!(await accounts.slugExists(candidate))) return candidate;
    }
    return `${base}-${randomBytes(3).toString('hex')}`;
  }

  async function startSession(user: User, tenant: Tenant): Promise<Session> {
    // The session is the refresh-token family; its access tokens carry its id, so logout can refuse them.
    const principal: Principal = { ...principalOfUser(user), sessionId: randomUUID() };
    const refreshToken = await tokens.issueRefreshToken(principal, principal.sessionId);
    return { accessToken: tokens.signAccessToken(principal), refreshToken, user: userView(user), tenant: tenantView(tenant) };
  }

  return {
    async register(input, source) {
      const email = normaliseEmail(input.email);
      const tenantName = input.tenantName.trim();
      const name = input.name?.trim() || email.split('@')[0] || email;
      const passwordHash = await kdf.run(source.client, () => hashPassword(input.password));
      const base = slugBase(tenantName);
      for (let attempt = 1; ; attempt++) {
        const slug = await freeSlug(base);
        try {
          const { tenant, user } = await accounts.provisionTenant({ tenantName, slug, owner: { email, name, passwordHash } });
          return await startSession(user, tenant);
        } catch (err) {
          // Another registration took the slug between our check and our insert: pick the next free one.
          const slugRace = err instanceof SlugTakenError || isUniqueViolation(err);
          if (!slugRace || attempt >= PROVISION_ATTEMPTS) throw err;
        }
      }
    },

    async login(input, source) {
      const email = normaliseEmail(input.email);
      await throttle.check(email, source.client);
      const memberships = await accounts.usersByEmail(email);
      let candidates = memberships;
      if (input.tenant !== undefined && memberships.length > 0) {
        const tenant = await accounts.findTenantBySlug(input.tenant.trim().toLowerCase());
        candidates = tenant ? memberships.filter((m) => m.tenantId === tenant.id) : [];
      }

      // Each membership has its own password. Only the memberships the password opens are disclosed,
      // so the tenant list below never tells a stranger where an email has accounts. No candidate at all still
      // spends one check (a decoy), so the time taken does not tell which addresses have accounts.
      const opened = await kdf.run(source.client, async () => {
        if (candidates.length === 0) return verifyDecoyPassword(input.password).then(() => []);
        const checks = await Promise.all(candidates.map((m) => verifyPassword(input.password, m.passwordHash)));
        return candidates.filter((_, i) => checks[i]);
      });
      const [only] = opened;
      if (!only) {
        await throttle.failed(email, source.client);
        throw invalidCredentials();
      }
      await throttle.succeeded(email, source.client);

      if (opened.length > 1) {
        const tenants = await Promise.all(opened.map((m) => accounts.findTenant(m.tenantId)));
        const slugs = tenants.flatMap((t) => (t ? [t.slug] : [])).sort();
        throw new AppError('TENANT_REQUIRED', 409, 'this email belongs to several tenants; choose one with `tenant`', {
          tenants: slugs,
        });
      }

      const tenant = await accounts.findTenant(only.tenantId);
      if (!tenant) throw invalidCredentials();
      return startSession(only, tenant);
    },

    async refresh(refreshToken) {
      const { accessToken, refreshToken: next } = await tokens.rotateRefreshToken(refreshToken);
      return { accessToken, refreshToken: next };
    },

    async logout(principal, refreshToken) {
      const ended = refreshToken !== undefined ? [await tokens.revokeRefreshToken(refreshToken, { userId: principal.userId })] : await accounts.revokeAllForUser(principal.userId);
      const ids = new Set([...ended, principal.sessionId].filter((id): id is string => id !== undefined && id !== null));
      await sessions.revoke([...ids]);
    },

    async me(principal) {
      const user = await accounts.findUser(principal.userId);
      const tenant = user && user.tenantId === principal.tenantId ? await accounts.findTenant(user.tenantId) : null;
      if (!user || !tenant) throw new Unauthorized('user no longer exists');
      return { user: userView(user), tenant: tenantView(tenant) };
    },
  };
}
