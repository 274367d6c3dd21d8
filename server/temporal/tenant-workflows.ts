// Every open Temporal workflow of one tenant, whatever started it (runs, child runs, map coordinators, scheduled
// starts, exports, deployments), found by the TenantId search attribute they all carry. Used by tenant deletion;
// it only ever terminates ids under the tenant's own prefix.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { tenantWorkflowIdPrefix } from '../../core/events';
import { SEARCH_ATTRIBUTES } from '../../core/run-protocol';

export interface OpenWorkflow {
  workflowId: string;
  type: string;
}

export class TenantWorkflows {
  constructor(private readonly client: Client) {}

  /**
   * The tenant's workflows Temporal lists as running, each confirmed by describing it: the visibility store may
   * still list a workflow that closed a moment ago.
   */
  async listOpen(tenantId: string): Promise<OpenWorkflow[]> {
    const prefix = tenantWorkflowIdPrefix(tenantId);
    const listed: OpenWorkflow[] = [];
    // Tenant ids are UUIDs: nothing in them can break out of the quoted value.
    const query = `${SEARCH_ATTRIBUTES.tenantId} = "${tenantId}" AND ExecutionStatus = "Running"`;
    for await (const w of this.client.workflow.list({ query })) {
      if (w.workflowId.startsWith(prefix)) listed.push({ workflowId: w.workflowId, type: w.type });
    }
    const running = await Promise.all(listed.map((w) => this.isRunning(w.workflowId)));
    return listed.filter((_w, i) => running[i]);
  }

  private async isRunning(workflowId: string): Promise<boolean> {
    try {
      return (await this.client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** Ends the workflow at once, with no cleanup in it; one that closed meanwhile is fine. */
  async terminate(tenantId: string, workflowId: string, reason: string): Promise<void> {
    if (!workflowId.startsWith(tenantWorkflowIdPrefix(tenantId))) throw new Error(`workflow ${workflowId} is not one of tenant ${tenantId}`);
    try {
      await this.client.workflow.getHandle(workflowId).terminate(reason);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
}
