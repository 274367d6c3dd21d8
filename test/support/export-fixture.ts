// A finished export and a deployment of it, written straight into a tenant's tables: the isolation and
// bad-input suites need ids that exist in a tenant, not a real wheel build or Docker run.
import { randomUUID } from 'node:crypto';
import { tenantSchemaName } from '../../db';
import type { TestStack } from './stack';

export async function insertExportFixture(stack: TestStack, tenantId: string, workflowId: string): Promise<{ exportId: string; deploymentId: string }> {
  const schema = tenantSchemaName(tenantId);
  const exportId = randomUUID();
  const deploymentId = randomUUID();
  await stack.db.dataSource.query(
    `insert into ${schema}.exports (id, workflow_id, workflow_version, status, package_name, module_name, script_name, version, temporal_workflow_id, created_by)
     values ($1, $2, 1, 'succeeded', 'fixture-pkg', 'fixture_pkg', 'fixture-pkg', '1.0.0', $3, 'fixture')`,
    [exportId, workflowId, `tenant/${tenantId}/export/${exportId}`],
  );
  await stack.db.dataSource.query(
    `insert into ${schema}.deployments (id, export_id, mode, status, inputs, base_image, temporal_workflow_id, created_by)
     values ($1, $2, 'oneshot', 'succeeded', '{}'::jsonb, 'python:3.12-slim', $3, 'fixture')`,
    [deploymentId, exportId, `tenant/${tenantId}/deployment/${deploymentId}`],
  );
  return { exportId, deploymentId };
}
