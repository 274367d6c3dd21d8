// The data layer: DataSource, tenant scope, migrator, entities and repositories.
export * from './data-source';
export * from './tenant-scope';
export * from './event-log';
export * from './migrator';
export * from './entities/public';
export * from './entities/tenant';
export * from './entities/exports';
export * from './repositories/accounts';
export * from './repositories/workflows';
export * from './repositories/executions';
export * from './repositories/progress';
export * from './repositories/exports';
export * from './repositories/deployments';
export * from './repositories/approvals';
export * from './repositories/api-keys';
export * from './repositories/credentials';
export * from './repositories/audit-log';
