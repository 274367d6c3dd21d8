// The LLM providers an agent turn can use, and the one place that builds them from the worker's configuration.
import type { ProviderName } from '../../core/graph';
import { createAnthropicProvider, type AnthropicProviderConfig } from './anthropic';
import { createEchoProvider } from './echo';
import { createOpenAiProvider, type OpenAiProviderConfig } from './openai';
import type { LlmProvider } from './types';

export { ANTHROPIC_DEFAULT_MAX_TOKENS, createAnthropicProvider, type AnthropicProviderConfig } from './anthropic';
export { createEchoProvider } from './echo';
export { createOpenAiProvider, type OpenAiProviderConfig } from './openai';
export { isRetryableStatus } from './provider-failure';
export {
  isAbortError,
  ProviderError,
  turnAbortedError,
  type AgentTurnRequest,
  type AgentTurnResult,
  type LlmProvider,
  type ProviderErrorOptions,
  type TokenUsage,
  type TurnContext,
} from './types';

export interface LlmProvidersConfig {
  openai: OpenAiProviderConfig;
  anthropic: AnthropicProviderConfig;
}

export function createProviders(config: LlmProvidersConfig): Record<ProviderName, LlmProvider> {
  return {
    echo: createEchoProvider(),
    openai: createOpenAiProvider(config.openai),
    anthropic: createAnthropicProvider(config.anthropic),
  };
}
