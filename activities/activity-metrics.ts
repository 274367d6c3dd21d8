// What activities tell the worker's metrics (worker/metrics.ts implements it with prom-client): model calls,
// tool calls and run ends. Only bounded values go in: provider, model, tool type, outcome, run status; never a
// tenant, an execution, a URL or a prompt.
import type { ProviderName } from '../core/graph';
import type { ExecutionStatus } from '../core/events';
import type { TokenUsage } from './llm';

export type CallOutcome = 'succeeded' | 'failed' | 'cancelled';

export interface LlmCallObservation {
  provider: ProviderName;
  /** The model the node asked for (the worker caps how many distinct ones it labels). */
  model: string;
  outcome: CallOutcome;
  seconds: number;
  /** Tokens the provider reported; absent when the call failed. */
  usage?: TokenUsage;
}

export interface ActivityMetrics {
  llmCall(observation: LlmCallObservation): void;
  toolCall(observation: { toolType: string; outcome: CallOutcome; seconds: number }): void;
  /** A run's end as this worker stored it (once per run: the end event is stored once). */
  runEnded(status: ExecutionStatus): void;
}
