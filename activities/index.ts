// Every activity the worker registers, bound to its dependencies once (`createActivities(deps)`).
import { createAgentTurnActivities, type AgentTurnDeps } from './agent-turn';
import { createProgressActivities } from './progress';
import { DeploymentRepository, ExportRepository } from '../db';
import { createExportActivities, type ExportActivityDeps } from './export';
import { createEvaluationActivities, type EvaluationActivityDeps } from './evaluation';
import { createToolActivities, type ToolActivityDeps } from './tools/call-tool';
import { createScheduledStartActivities } from './scheduled-start';
import { createChildRunActivities, type ChildRunActivityDeps } from './child-run';
import { createWorkflowToolParameters } from './tools/workflow-tool-parameters';
import { createMapRunActivities, type MapRunActivityDeps } from './map-run';
import { createConversationActivities } from './conversation-turn';
import { operatorSignalIdentity } from './operator-identity';
import { createRetentionActivities, type RetentionActivityDeps } from './retention';

/** Export settings are optional so callers without exports keep working; `dataDir` defaults to `.data`. */
/** `evaluation` is the worker's evaluation thread pool; its limits also cap agent outputs. */
/** `runsMaxConcurrentPerTenant` (RUNS_MAX_CONCURRENT_PER_TENANT, as the API's) bounds a tenant's scheduled runs too. */
/** `accounts` lists the tenants the retention sweep visits. */
export type ActivityDeps = Partial<Pick<RetentionActivityDeps, 'accounts'>> & AgentTurnDeps & EvaluationActivityDeps & ToolActivityDeps & Pick<ChildRunActivityDeps, 'subflowMaxDepth'> & Pick<MapRunActivityDeps, 'mapMaxItems'> & Partial<Pick<ExportActivityDeps, 'dataDir' | 'python' | 'buildTimeoutMs' | 'docker'>> & { runsMaxConcurrentPerTenant?: number };

export function createActivities(deps: ActivityDeps) {
  const agentTurns = createAgentTurnActivities({
    ...deps,
    outputLimits: deps.outputLimits ?? deps.evaluation.limits,
    workflowToolParameters: deps.workflowToolParameters ?? createWorkflowToolParameters(deps.scope),
  });
  return {
    ...createProgressActivities(deps),
    ...createEvaluationActivities(deps),
    ...agentTurns,
    ...createConversationActivities(agentTurns.runAgentTurn),
    operatorSignalIdentity,
    ...createToolActivities(deps),
    ...createScheduledStartActivities({ scope: deps.scope, runInputsMaxBytes: deps.evaluation.limits.runInputsMaxBytes, outputLimits: deps.evaluation.limits, ...(deps.runsMaxConcurrentPerTenant !== undefined ? { runsMaxConcurrentPerTenant: deps.runsMaxConcurrentPerTenant } : {}) }),
    ...createChildRunActivities({ scope: deps.scope, runInputsMaxBytes: deps.evaluation.limits.runInputsMaxBytes, outputLimits: deps.evaluation.limits, ...(deps.subflowMaxDepth !== undefined ? { subflowMaxDepth: deps.subflowMaxDepth } : {}) }),
    ...createMapRunActivities({ scope: deps.scope, evaluation: deps.evaluation, ...(deps.mapMaxItems !== undefined ? { mapMaxItems: deps.mapMaxItems } : {}) }),
    ...createRetentionActivities({ scope: deps.scope, publisher: deps.publisher, ...(deps.accounts ? { accounts: deps.accounts } : {}) }),
    ...createExportActivities({ ...deps, exports: new ExportRepository(deps.scope), deployments: new DeploymentRepository(deps.scope), dataDir: deps.dataDir ?? '.data' }),
  };
}

export type TesseraActivities = ReturnType<typeof createActivities>;

export { createRedisEventPublisher, type ExecutionEventPublisher } from './event-publisher';
export type { AgentTurnInput, AgentTurnOutput, CredentialResolver } from './agent-turn';
export { PROVIDER_ERROR_TYPE } from './agent-turn';
export type { CallToolInput, CallToolOutput, ToolRunners } from './tools/call-tool';
export type { ConversationTurnInput, SelectSpeakerInput } from './conversation-turn';
export { createCredentialResolver } from './credentials';
export { EvaluationPool } from './evaluation';
export type { RecordProgressInput } from './progress';
