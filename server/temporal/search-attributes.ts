// The typed search attributes every Tessera workflow carries, so operators find any run or export of a
// tenant in the Temporal UI (`TenantId = "<id>"`).
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../../core/run-protocol';

const TENANT_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.tenantId, SearchAttributeType.KEYWORD);
const WORKFLOW_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.workflowId, SearchAttributeType.KEYWORD);
const EXECUTION_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.executionId, SearchAttributeType.KEYWORD);

/** `executionId` is the run's id, or the export's or deployment's id for those workflows. */
export function tesseraSearchAttributes(ids: { tenantId: string; workflowId: string; executionId: string }): SearchAttributePair[] {
  return [
    { key: TENANT_KEY, value: ids.tenantId },
    { key: WORKFLOW_KEY, value: ids.workflowId },
    { key: EXECUTION_KEY, value: ids.executionId },
  ];
}
