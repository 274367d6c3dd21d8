// A unit of work inside one tenant's schema: a transaction whose search_path is set with
// `set_config(..., true)` (transaction-local, so it never leaks to the next borrower of the pooled
// connection) and whose EntityManager is kept in AsyncLocalStorage for the repositories. Inside the
// transaction the connection switches to the tenant's own role (`set_config('role', ..., true)`, the same
// as `SET LOCAL ROLE`), so the database itself refuses any statement that names another tenant's schema.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import { isUuid } from '../core/ids';

/** A tenant id as stored: a lower-case UUID (schema and role names are built from it). */
export function isTenantId(value: string): boolean {
  return isUuid(value) && value === value.toLowerCase();
}

/** The schema of a tenant. Tenant ids are UUIDs; the schema name uses them without dashes. */
export function tenantSchemaName(tenantId: string): string {
  if (!isTenantId(tenantId)) throw new Error(`not a tenant id: ${JSON.stringify(tenantId)}`);
  return `tenant_${tenantId.replace(/-/g, '')}`;
}

/**
 * The NOLOGIN role that owns a tenant's schema and is the only role that can use it. Roles and schemas
 * live in different namespaces, so the role takes the schema's name.
 */
export function tenantRoleName(tenantId: string): string {
  return tenantSchemaName(tenantId);
}

interface ScopeState {
  tenantId: string;
  manager: EntityManager;
}

export class TenantScope {
  private readonly storage = new AsyncLocalStorage<ScopeState>();

  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in a transaction scoped to the tenant. Nested calls for the same tenant reuse the transaction. */
  async run<T>(tenantId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const current = this.storage.getStore();
    if (current) {
      if (current.tenantId !== tenantId) throw new Error('a tenant scope cannot open inside another tenant\'s scope');
      return work(current.manager);
    }
    const schema = tenantSchemaName(tenantId);
    return this.dataSource.transaction(async (manager) => {
      // One round trip for both: `set_config('role', …, true)` is `SET LOCAL ROLE` (the role GUC), and a
      // statement less per scope is a tenth of a short read's time (docs/decisions.md, API latency).
      await manager.query(`select set_config('search_path', $1, true), set_config('role', $2, true)`, [`${schema}, public`, tenantRoleName(tenantId)]);
      return this.storage.run({ tenantId, manager }, () => work(manager));
    });
  }

  /** The manager of the current scope; throws outside one, so no query can escape its tenant. */
  manager(): EntityManager {
    const state = this.storage.getStore();
    if (!state) throw new Error('no tenant scope is open');
    return state.manager;
  }

  tenantId(): string {
    const state = this.storage.getStore();
    if (!state) throw new Error('no tenant scope is open');
    return state.tenantId;
  }
}
