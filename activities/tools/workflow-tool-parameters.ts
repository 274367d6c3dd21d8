// What a model is told a workflow tool takes (DESIGN.md §8): the trigger inputs of the child workflow's saved
// version as a JSON Schema object, read in the caller tenant's schema when the model call offers its tools, so
// the arguments are checked before the child is asked to run. The same schema Tessera's MCP endpoint gives.
import type { WorkflowToolRef } from '../../core/tool-loop';
import { isUuid } from '../../core/ids';
import { WorkflowRepository, type TenantScope } from '../../db';
import { inputSchemaOf, triggerInputsOf } from '../../server/mcp/workflow-tools';

/** The tool's parameters, or null when the workflow (or version) is not the tenant's: the call then says so. */
export type WorkflowToolParameters = (tenantId: string, tool: WorkflowToolRef) => Promise<Record<string, unknown> | null>;

export function createWorkflowToolParameters(scope: TenantScope): WorkflowToolParameters {
  const workflows = new WorkflowRepository(scope);
  return (tenantId, tool) =>
    scope.run(tenantId, async () => {
      const w = isUuid(tool.workflowId) ? await workflows.find(tool.workflowId.toLowerCase()) : null;
      const saved = w ? await workflows.version(w.id, tool.version ?? w.currentVersion) : null;
      return saved ? inputSchemaOf(triggerInputsOf(saved.graph)) : null;
    });
}
