// The one TypeORM DataSource of a process (one pool), with every public and tenant entity registered.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { RefreshToken, Tenant, User } from './entities/public';
import { DeploymentRow, ExportEventRow, ExportRow } from './entities/exports';
import { Approval, Execution, ExecutionEventRow, NodeExecution, Workflow, WorkflowVersion } from './entities/tenant';

export const ENTITIES = [Tenant, User, RefreshToken, Workflow, WorkflowVersion, Execution, NodeExecution, ExecutionEventRow, Approval, ExportRow, ExportEventRow, DeploymentRow];

export interface PoolOptions {
  poolSize?: number;
  applicationName?: string;
  /**
   * An idle pooled connection that fails (the server restarted, an admin ended the backend). pg's pool drops it
   * and makes a new one when needed; this says so in the process's own log (TypeORM's default only warns
   * through its logger, which is off).
   */
  onPoolError?: (err: Error) => void;
}

export function createDataSource(databaseUrl: string, options: PoolOptions = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? 'tessera',
    // search_path stays `public` (no tenant tables) unless a tenant scope sets it for its transaction.
    extra: { options: '-c search_path=public' },
    ...(options.onPoolError ? { poolErrorHandler: options.onPoolError } : {}),
  });
}
