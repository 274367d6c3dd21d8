// The MCP servers a tenant registered: name, Streamable HTTP URL and the credential whose secret is the
// bearer token. Runs inside the caller's TenantScope, so another tenant's id finds nothing.
import { randomUUID } from 'node:crypto';
import { returnedRows } from '../returning';
import type { TenantScope } from '../tenant-scope';

export interface McpServerRecord {
  id: string;
  name: string;
  url: string;
  credentialId: string | null;
  createdBy: string | null;
  createdAt: Date;
}

interface McpServerRow {
  id: string;
  name: string;
  url: string;
  credential_id: string | null;
  created_by: string | null;
  created_at: Date;
}

const COLUMNS = 'id, name, url, credential_id, created_by, created_at';

/** The unique index behind "a server of that name exists" (a 409, not a 500). */
export const MCP_SERVER_NAME_INDEX = 'mcp_servers_name_idx';

function record(row: McpServerRow): McpServerRecord {
  return { id: row.id, name: row.name, url: row.url, credentialId: row.credential_id, createdBy: row.created_by, createdAt: row.created_at };
}

export class McpServerRepository {
  constructor(private readonly scope: TenantScope) {}

  async create(input: { name: string; url: string; credentialId: string | null; createdBy: string | null }): Promise<McpServerRecord> {
    const rows: McpServerRow[] = await this.scope
      .manager()
      .query(`insert into mcp_servers (id, name, url, credential_id, created_by) values ($1, $2, $3, $4, $5) returning ${COLUMNS}`, [
        randomUUID(),
        input.name,
        input.url,
        input.credentialId,
        input.createdBy,
      ]);
    return record(rows[0] as McpServerRow);
  }

  async list(): Promise<McpServerRecord[]> {
    const rows: McpServerRow[] = await this.scope.manager().query(`select ${COLUMNS} from mcp_servers order by lower(name)`);
    return rows.map(record);
  }

  async get(id: string): Promise<McpServerRecord | null> {
    const rows: McpServerRow[] = await this.scope.manager().query(`select ${COLUMNS} from mcp_servers where id = $1`, [id]);
    return rows[0] ? record(rows[0]) : null;
  }

  async remove(id: string): Promise<boolean> {
    return returnedRows<{ id: string }>(await this.scope.manager().query(`delete from mcp_servers where id = $1 returning id`, [id])).length > 0;
  }
}
