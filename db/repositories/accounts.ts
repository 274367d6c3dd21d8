// Tenants, users and refresh tokens in the public schema, provisioning of a new tenant's schema and role,
// membership changes, and deleting a tenant with everything it owns.
import { randomUUID } from 'node:crypto';
import { IsNull, type DataSource, type MigrationInterface } from 'typeorm';
import { RefreshToken, Tenant, User, type Role } from '../entities/public';
import { migrateTenantSchemaIn } from '../migrator';
import { tenantRoleName, tenantSchemaName } from '../tenant-scope';

export class SlugTakenError extends Error {
  override name = 'SlugTakenError';
}

/** A membership change that would leave a tenant without an owner. */
export class LastOwnerError extends Error {
  override name = 'LastOwnerError';
}

export class AccountRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tenantMigrations: MigrationInterface[],
  ) {}

  /** Creates the tenant, its owner and its migrated schema in one transaction: all or nothing. */
  async provisionTenant(input: {
    tenantName: string;
    slug: string;
    owner: { email: string; name: string; passwordHash: string };
  }): Promise<{ tenant: Tenant; user: User }> {
    const tenantId = randomUUID();
    return this.dataSource.transaction(async (m) => {
      const taken = await m.findOne(Tenant, { where: { slug: input.slug } });
      if (taken) throw new SlugTakenError(`tenant slug ${input.slug} is taken`);
      const tenant = m.create(Tenant, { id: tenantId, slug: input.slug, name: input.tenantName, schemaName: tenantSchemaName(tenantId) });
      await m.insert(Tenant, tenant);
      const user = m.create(User, { id: randomUUID(), tenantId, role: 'owner' as Role, ...input.owner });
      await m.insert(User, user);
      await migrateTenantSchemaIn(m, tenantId, this.tenantMigrations);
      return { tenant: await m.findOneByOrFail(Tenant, { id: tenantId }), user: await m.findOneByOrFail(User, { id: user.id }) };
    });
  }

  async slugExists(slug: string): Promise<boolean> {
    return (await this.dataSource.manager.count(Tenant, { where: { slug } })) > 0;
  }

  /** A page of tenant ids in id order, after `after` (from the start when null): what a sweep over every tenant walks. */
  async tenantIdsAfter(after: string | null, limit: number): Promise<string[]> {
    const rows = (await this.dataSource.query(`select id from public.tenants where ($1::uuid is null or id > $1::uuid) order by id limit $2`, [after, limit])) as Array<{ id: string }>;
    return rows.map((r) => r.id);
  }

  async findTenant(id: string): Promise<Tenant | null> {
    return this.dataSource.manager.findOne(Tenant, { where: { id } });
  }

  async findTenantBySlug(slug: string): Promise<Tenant | null> {
    return this.dataSource.manager.findOne(Tenant, { where: { slug } });
  }

  async findUser(id: string): Promise<User | null> {
    return this.dataSource.manager.findOne(User, { where: { id } });
  }

  /**
   * Who a user is now, for the authentication of every request: one plain statement by primary key (TypeORM's
   * findOne costs about four times as much CPU per call, which the API pays on each request under load).
   */
  async currentMember(id: string): Promise<Pick<User, 'id' | 'tenantId' | 'role' | 'email'> | null> {
    const rows = (await this.dataSource.query(`select id, tenant_id as "tenantId", role, email from public.users where id = $1`, [id])) as Array<Pick<User, 'id' | 'tenantId' | 'role' | 'email'>>;
    return rows[0] ?? null;
  }

  /** Every membership of an email address (one per tenant). */
  async usersByEmail(email: string): Promise<User[]> {
    return this.dataSource.manager.find(User, { where: { email } });
  }

  async insertRefreshToken(token: { userId: string; tenantId: string; familyId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
    await this.dataSource.manager.insert(RefreshToken, { id: randomUUID(), revokedAt: null, ...token });
  }

  async findRefreshToken(tokenHash: string): Promise<RefreshToken | null> {
    return this.dataSource.manager.findOne(RefreshToken, { where: { tokenHash } });
  }

  /** Revokes one token if it is still live; false when someone else revoked it first (a reuse race). */
  async revokeRefreshToken(id: string): Promise<boolean> {
    const r = await this.dataSource.manager.update(RefreshToken, { id, revokedAt: IsNull() }, { revokedAt: new Date() });
    return (r.affected ?? 0) > 0;
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.dataSource.manager.update(RefreshToken, { familyId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  /** Revokes every live refresh token of the user; answers the sessions (families) that were live. */
  async revokeAllForUser(userId: string): Promise<string[]> {
    const result = await this.dataSource.manager
      .createQueryBuilder()
      .update(RefreshToken)
      .set({ revokedAt: new Date() })
      .where({ userId, revokedAt: IsNull() })
      .returning('family_id')
      .execute();
    const rows = result.raw as { family_id: string }[];
    return [...new Set(rows.map((r) => r.family_id))];
  }

  async listUsers(tenantId: string): Promise<User[]> {
    return this.dataSource.manager.find(User, { where: { tenantId }, order: { createdAt: 'ASC' } });
  }

  /** A member of `tenantId`; null for an unknown id and for a member of another tenant alike. */
  async findMember(tenantId: string, userId: string): Promise<User | null> {
    return this.dataSource.manager.findOne(User, { where: { id: userId, tenantId } });
  }

  async addUser(input: { tenantId: string; email: string; name: string; passwordHash: string; role: Role }): Promise<User> {
    const user = this.dataSource.manager.create(User, { id: randomUUID(), ...input });
    await this.dataSource.manager.insert(User, user);
    return this.dataSource.manager.findOneByOrFail(User, { id: user.id });
  }

  /**
   * Applies a change to a member unless it leaves the tenant with no owner. The tenant's owner rows are
   * locked first, so two owners demoting each other at once cannot both succeed.
   */
  async changeMember(tenantId: string, userId: string, change: { role?: Role; name?: string } | 'remove'): Promise<User | null> {
    return this.dataSource.transaction(async (m) => {
      const owners: { id: string }[] = await m.query(`select id from public.users where tenant_id = $1 and role = 'owner' for update`, [tenantId]);
      const user = await m.findOne(User, { where: { id: userId, tenantId } });
      if (!user) return null;
      const losesOwner = user.role === 'owner' && (change === 'remove' || (change.role !== undefined && change.role !== 'owner'));
      if (losesOwner && owners.length <= 1) throw new LastOwnerError('a tenant needs at least one owner');
      if (change === 'remove') {
        await m.delete(User, { id: userId, tenantId });
        return user;
      }
      await m.update(User, { id: userId, tenantId }, { ...(change.role ? { role: change.role } : {}), ...(change.name ? { name: change.name } : {}) });
      return m.findOneByOrFail(User, { id: userId });
    });
  }

  /** Drops the tenant's schema and role and deletes its public rows (users, tokens, API keys cascade). */
  async deleteTenant(tenantId: string): Promise<void> {
    const schema = tenantSchemaName(tenantId);
    const role = tenantRoleName(tenantId);
    await this.dataSource.transaction(async (m) => {
      await m.query(`select pg_advisory_xact_lock(hashtext($1))`, [`tessera:migrate:${schema}`]);
      await m.delete(Tenant, { id: tenantId });
      await m.query(`drop schema if exists ${schema} cascade`);
      const [exists] = await m.query(`select 1 from pg_roles where rolname = $1`, [role]);
      if (exists) await m.query(`drop role ${role}`);
    });
  }
}
