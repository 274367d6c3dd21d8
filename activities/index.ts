// Every activity the worker registers, bound to its dependencies once (`createActivities(deps)`).
import { createAgentTurnActivities, type AgentTurnDeps } from './agent-turn';
import { createProgressActivities } from './progress';

export type ActivityDeps = AgentTurnDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createProgressActivities(deps),
    ...createAgentTurnActivities(deps),
  };
}

export type TesseraActivities = ReturnType<typeof createActivities>;

export { createRedisEventPublisher, type ExecutionEventPublisher } from './event-publisher';
export type { AgentTurnInput, AgentTurnOutput, CredentialResolver } from './agent-turn';
export { PROVIDER_ERROR_TYPE } from './agent-turn';
export type { RecordProgressInput } from './progress';
