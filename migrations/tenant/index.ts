// Every tenant schema's migrations, in the order they run.
import type { MigrationInterface } from 'typeorm';
import { TenantInitial0001 } from './0001-initial';
import { TenantApprovals0002 } from './0002-approvals';
import { TenantSecurity0003 } from './0003-security';
import { TenantExports0004 } from './0004-exports';
import { TenantCredentialSettings0005 } from './0005-credential-settings';
import { TenantExecutionTrigger0006 } from './0006-execution-trigger';
import { TenantMcpServers0007 } from './0007-mcp-servers';
import { TenantTriggers0008 } from './0008-triggers';
import { TenantExecutionLinks0009 } from './0009-execution-links';
import { TenantRunQueue0010 } from './0010-run-queue';
import { TenantWorkflowDeletion0011 } from './0011-workflow-deletion';
import { TenantVaultKeyIds0012 } from './0012-vault-key-ids';
import { TenantRetention0013 } from './0013-retention';

export const tenantMigrations: MigrationInterface[] = [new TenantInitial0001(), new TenantApprovals0002(), new TenantSecurity0003(), new TenantExports0004(), new TenantCredentialSettings0005(), new TenantExecutionTrigger0006(), new TenantMcpServers0007(), new TenantTriggers0008(), new TenantExecutionLinks0009(), new TenantRunQueue0010(), new TenantWorkflowDeletion0011(), new TenantVaultKeyIds0012(), new TenantRetention0013()];
