// Tenant schema: the MCP servers a tenant registered (Streamable HTTP), whose tools its agents may call. A
// server may name a credential of the vault whose secret is its bearer token; no foreign key, so deleting
// the credential is never blocked: the server's calls then fail with CREDENTIAL_NOT_FOUND.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantMcpServers0007 implements MigrationInterface {
  name = '0007-tenant-mcp-servers';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table mcp_servers (
        id uuid primary key,
        name text not null,
        url text not null,
        credential_id uuid,
        created_by uuid,
        created_at timestamptz not null default now()
      )`);
    await q.query(`create unique index mcp_servers_name_idx on mcp_servers (lower(name))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop table mcp_servers');
  }
}
