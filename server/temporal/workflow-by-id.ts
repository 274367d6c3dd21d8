// The two calls the export and deployment clients share: start a workflow under an id at most once (a
// second start of the same record is a no-op), and read how a workflow of a known id stands.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { tesseraSearchAttributes } from './search-attributes';

export interface StartOnce {
  workflowType: string;
  /** The Temporal workflow id, derived from the tenant id by the caller. */
  id: string;
  input: object;
  taskQueue: string;
  /** Search attributes: the tenant, the canvas workflow and the record the workflow works for. */
  tenantId: string;
  workflowId: string;
  recordId: string;
}

export async function startOnce(client: Client, start: StartOnce): Promise<void> {
  try {
    await client.workflow.start(start.workflowType, {
      workflowId: start.id,
      taskQueue: start.taskQueue,
      args: [start.input],
      typedSearchAttributes: tesseraSearchAttributes({ tenantId: start.tenantId, workflowId: start.workflowId, executionId: start.recordId }),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** The workflow's status name (RUNNING, COMPLETED, TERMINATED, …), or null when Temporal has no such workflow. */
export async function statusOf(client: Client, id: string): Promise<{ status: string } | null> {
  try {
    const d = await client.workflow.getHandle(id).describe();
    return { status: d.status.name };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
