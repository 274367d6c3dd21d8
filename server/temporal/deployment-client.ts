// The API's door to Temporal for deployments (workflows/deployment-run.ts). Like RunClient, every call
// derives the workflow id from the caller's tenant id (`tenant/<tenantId>/deployment/<deploymentId>`), so no
// call can reach another tenant's.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DEPLOYMENT_RUN_WORKFLOW, STOP_DEPLOYMENT_SIGNAL, deploymentTemporalId, type DeploymentRunInput } from '../../core/export-protocol';
import { waitClosed } from './wait-closed';
import { startOnce, statusOf } from './workflow-by-id';

export class DeploymentClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Starts the deployment; a second start of the same deployment is a no-op (idempotent). */
  async start(input: DeploymentRunInput): Promise<{ workflowId: string }> {
    const id = deploymentTemporalId(input.tenantId, input.deploymentId);
    await startOnce(this.client, {
      workflowType: DEPLOYMENT_RUN_WORKFLOW,
      id,
      input,
      taskQueue: this.taskQueue,
      tenantId: input.tenantId,
      workflowId: input.project.plan.workflowId,
      recordId: input.deploymentId,
    });
    return { workflowId: id };
  }

  async describe(tenantId: string, deploymentId: string): Promise<{ status: string } | null> {
    return statusOf(this.client, deploymentTemporalId(tenantId, deploymentId));
  }

  /** Asks the deployment to stop and remove its container, and waits (at most `waitMs`) for it to finish. */
  async stop(tenantId: string, deploymentId: string, waitMs: number): Promise<void> {
    const handle = this.client.workflow.getHandle(deploymentTemporalId(tenantId, deploymentId));
    try {
      await handle.signal(STOP_DEPLOYMENT_SIGNAL);
    } catch (err) {
      // A deployment whose workflow already closed has nothing left to stop.
      if (err instanceof WorkflowNotFoundError) return;
      throw err;
    }
    await waitClosed(handle, waitMs);
  }
}
