// The one TypeORM DataSource of a process (one pool), with every public and tenant entity registered.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { RefreshToken, Tenant, User } from './entities/public';
import { DeploymentRow, ExportEventRow, ExportRow } from './entities/exports';
import { Approval, Execution, ExecutionEventRow, NodeExecution, Workflow, WorkflowVersion } from './entities/tenant';

export const ENTITIES = [Tenant, User, RefreshToken, Workflow, WorkflowVersion, Execution, NodeExecution, ExecutionEventRow, Approval, ExportRow, ExportEventRow, DeploymentRow];

export function createDataSource(databaseUrl: string, options: { poolSize?: number; applicationName?: string } = {}): DataSource {
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
  });
}
