// Members of a tenant: listing, adding, changing roles and removing them, with the rules of the role matrix
// (admins manage users but may not touch owners or make new ones; no change may leave a tenant without an
// owner). A removed member's sessions end at once: refresh tokens are revoked and every request re-reads
// the user, so an access token already issued stops working on its next request.
import { AppError, Conflict, Forbidden, NotFound } from '../../core/errors';
import { LastOwnerError, type AccountRepository, type Role, type User } from '../../db';
import { hashPassword } from '../auth/passwords';
import type { Principal } from '../auth/principal';
import { normaliseEmail, type UserView } from '../auth/service';
import type { InvalidationBus } from '../cache/invalidation-bus';
import { hasRole } from '../rbac';

export interface MemberService {
  list(caller: Principal): Promise<UserView[]>;
  add(caller: Principal, input: { email: string; name?: string; password: string; role: Role }): Promise<UserView>;
  change(caller: Principal, userId: string, change: { role?: Role; name?: string }): Promise<{ before: UserView; after: UserView }>;
  remove(caller: Principal, userId: string): Promise<UserView>;
}

function view(user: User): UserView {
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** Owners are managed by owners only: an admin can neither touch an owner nor hand out the owner role. */
function assertMayManage(caller: Principal, targetRole: Role | null, newRole: Role | undefined): void {
  if ((targetRole === 'owner' || newRole === 'owner') && !hasRole(caller.role, 'owner')) {
    throw new Forbidden('only an owner can manage owners');
  }
}

export function createMemberService(deps: { accounts: AccountRepository; bus: InvalidationBus }): MemberService {
  const { accounts, bus } = deps;

  async function member(caller: Principal, userId: string): Promise<User> {
    const user = await accounts.findMember(caller.tenantId, userId);
    if (!user) throw new NotFound(`user ${userId} not found`);
    return user;
  }

  return {
    async list(caller) {
      return (await accounts.listUsers(caller.tenantId)).map(view);
    },

    async add(caller, input) {
      assertMayManage(caller, null, input.role);
      const email = normaliseEmail(input.email);
      try {
        const user = await accounts.addUser({
          tenantId: caller.tenantId,
          email,
          name: input.name?.trim() || email.split('@')[0] || email,
          passwordHash: await hashPassword(input.password),
          role: input.role,
        });
        return view(user);
      } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict('this email is already a member of the tenant', { field: 'email' });
        throw err;
      }
    },

    async change(caller, userId, change) {
      const before = await member(caller, userId);
      assertMayManage(caller, before.role, change.role);
      try {
        const after = await accounts.changeMember(caller.tenantId, userId, change);
        if (!after) throw new NotFound(`user ${userId} not found`);
        await bus.publish({ kind: 'member', userId });
        return { before: view(before), after: view(after) };
      } catch (err) {
        if (err instanceof LastOwnerError) throw new AppError('LAST_OWNER', 409, err.message);
        throw err;
      }
    },

    async remove(caller, userId) {
      const target = await member(caller, userId);
      assertMayManage(caller, target.role, undefined);
      try {
        const removed = await accounts.changeMember(caller.tenantId, userId, 'remove');
        if (!removed) throw new NotFound(`user ${userId} not found`);
        await bus.publish({ kind: 'member', userId });
        // The refresh tokens cascade with the user row; revoking first would be moot. Access tokens die
        // on their next request, when authentication finds no user.
        return view(removed);
      } catch (err) {
        if (err instanceof LastOwnerError) throw new AppError('LAST_OWNER', 409, err.message);
        throw err;
      }
    },
  };
}
