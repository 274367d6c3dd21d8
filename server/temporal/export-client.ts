// The API's door to Temporal for exports and deployments. Like RunClient, every call derives the workflow id
// from the caller's tenant id (`tenant/<tenantId>/export/<exportId>`), so no call can reach another tenant's.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  DEPLOYMENT_RUN_WORKFLOW,
  EXPORT_RUN_WORKFLOW,
  STOP_DEPLOYMENT_SIGNAL,
  deploymentTemporalId,
  exportTemporalId,
  type DeploymentRunInput,
  type ExportRunInput,
} from '../../core/export-protocol';
import { tesseraSearchAttributes } from './search-attributes';
import { waitClosed } from './wait-closed';

export class ExportClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Starts the export; a second start of the same export is a no-op (idempotent). */
  async startExport(input: ExportRunInput): Promise<{ workflowId: string }> {
    const id = exportTemporalId(input.tenantId, input.exportId);
    await this.start(EXPORT_RUN_WORKFLOW, id, input, input.tenantId, input.plan.workflowId, input.exportId);
    return { workflowId: id };
  }

  async describeExport(tenantId: string, exportId: string): Promise<{ status: string } | null> {
    return this.describe(exportTemporalId(tenantId, exportId));
  }

  /** Asks the export to stop, and waits (at most `waitMs`) for it to record that it did. */
  async cancelExport(tenantId: string, exportId: string, waitMs: number): Promise<void> {
    const handle = this.client.workflow.getHandle(exportTemporalId(tenantId, exportId));
    await handle.cancel();
    await waitClosed(handle, waitMs);
  }

  async startDeployment(input: DeploymentRunInput): Promise<{ workflowId: string }> {
    const id = deploymentTemporalId(input.tenantId, input.deploymentId);
    await this.start(DEPLOYMENT_RUN_WORKFLOW, id, input, input.tenantId, input.project.plan.workflowId, input.deploymentId);
    return { workflowId: id };
  }

  async describeDeployment(tenantId: string, deploymentId: string): Promise<{ status: string } | null> {
    return this.describe(deploymentTemporalId(tenantId, deploymentId));
  }

  /** Asks the deployment to stop and remove its container, and waits (at most `waitMs`) for it to finish. */
  async stopDeployment(tenantId: string, deploymentId: string, waitMs: number): Promise<void> {
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

  private async start(workflowType: string, id: string, input: object, tenantId: string, workflowId: string, recordId: string): Promise<void> {
    try {
      await this.client.workflow.start(workflowType, {
        workflowId: id,
        taskQueue: this.taskQueue,
        args: [input],
        typedSearchAttributes: tesseraSearchAttributes({ tenantId, workflowId, executionId: recordId }),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  private async describe(id: string): Promise<{ status: string } | null> {
    try {
      const d = await this.client.workflow.getHandle(id).describe();
      return { status: d.status.name };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }
}
