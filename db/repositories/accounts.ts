// Tenants, users and refresh tokens in the public schema, and provisioning of a new tenant's schema.
import { randomUUID } from 'node:crypto';
import { IsNull, type DataSource, type MigrationInterface } from 'typeorm';
import { RefreshToken, Tenant, User, type Role } from '../entities/public';
import { migrateSchemaIn } from '../migrator';
import { tenantSchemaName } from '../tenant-scope';

export class SlugTakenError extends Error {
  override name = 'SlugTakenError';
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
      await migrateSchemaIn(m, tenant.schemaName, this.tenantMigrations);
      return { tenant: await m.findOneByOrFail(Tenant, { id: tenantId }), user: await m.findOneByOrFail(User, { id: user.id }) };
    });
  }

  async slugExists(slug: string): Promise<boolean> {
    return (await this.dataSource.manager.count(Tenant, { where: { slug } })) > 0;
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

  async revokeAllForUser(userId: string): Promise<void> {
    await this.dataSource.manager.update(RefreshToken, { userId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }
}
