// The API's door to Temporal for exports. Like RunClient, every call derives the workflow id from the
// caller's tenant id (`tenant/<tenantId>/export/<exportId>`), so no call can reach another tenant's.
import type { Client } from '@temporalio/client';
import { EXPORT_RUN_WORKFLOW, exportTemporalId, type ExportRunInput } from '../../core/export-protocol';
import { waitClosed } from './wait-closed';
import { startOnce, statusOf } from './workflow-by-id';

export class ExportClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Starts the export; a second start of the same export is a no-op (idempotent). */
  async startExport(input: ExportRunInput): Promise<{ workflowId: string }> {
    const id = exportTemporalId(input.tenantId, input.exportId);
    await startOnce(this.client, {
      workflowType: EXPORT_RUN_WORKFLOW,
      id,
      input,
      taskQueue: this.taskQueue,
      tenantId: input.tenantId,
      workflowId: input.plan.workflowId,
      recordId: input.exportId,
    });
    return { workflowId: id };
  }

  async describeExport(tenantId: string, exportId: string): Promise<{ status: string } | null> {
    return statusOf(this.client, exportTemporalId(tenantId, exportId));
  }

  /** Asks the export to stop, and waits (at most `waitMs`) for it to record that it did. */
  async cancelExport(tenantId: string, exportId: string, waitMs: number): Promise<void> {
    const handle = this.client.workflow.getHandle(exportTemporalId(tenantId, exportId));
    await handle.cancel();
    await waitClosed(handle, waitMs);
  }
}
