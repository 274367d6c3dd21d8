// Every tenant schema's migrations, in the order they run.
import type { MigrationInterface } from 'typeorm';
import { TenantInitial0001 } from './0001-initial';

export const tenantMigrations: MigrationInterface[] = [new TenantInitial0001()];
