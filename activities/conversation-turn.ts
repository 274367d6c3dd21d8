// The activities of a `conversation` node (core/conversation.ts): one participant's turn, and, under `auto`,
// the model call that names the next speaker. Each builds its request from the transcript the run machine
// hands it and makes it as an agent turn does (runAgentTurn: the participant's credential, the provider's
// failures as retryable or not, the pending ledger written first, the output caps, streamed deltas).
import type { ProviderName } from '../core/graph';
import { jsonBytes } from '../core/limits';
import type { Ledger } from '../core/run-ledger';
import { selectorRequest, turnRequest, type ConversationTurn } from '../core/conversation';
import type { AgentTurnInput, AgentTurnOutput } from './agent-turn';

/** Who a call speaks as (or, for a speaker selection, whose model it asks). */
export interface ConversationVoice {
  name: string;
  provider: ProviderName;
  model: string;
  credentialId?: string;
}

interface ConversationCallBase {
  tenantId: string;
  executionId: string;
  nodeId: string;
  /** The turn this call is for (1-based). */
  round: number;
  attempt: number;
  maximumAttempts: number;
  /** What the run has yet to record: written before the model is called. */
  ledger?: Ledger;
  /** Every participant's name, in order. */
  participants: string[];
  topic: string;
  /** The participants' rendered system prompts, by name. */
  systems: Record<string, string>;
  transcript: ConversationTurn[];
  timeoutSeconds?: number;
}

export interface ConversationTurnInput extends ConversationCallBase {
  speaker: ConversationVoice;
  runOutputBytes: number;
}

export interface SelectSpeakerInput extends ConversationCallBase {
  /** The model asked: the first participant's. */
  selector: ConversationVoice;
  candidates: string[];
}

/** A selection answers with a name: a few tokens are enough, and a long answer would only cost. */
export const SELECTOR_MAX_TOKENS = 50;

export function createConversationActivities(runAgentTurn: (input: AgentTurnInput) => Promise<AgentTurnOutput>) {
  function baseInput(input: ConversationCallBase, voice: ConversationVoice): Omit<AgentTurnInput, 'request'> {
    return {
      tenantId: input.tenantId,
      executionId: input.executionId,
      nodeId: input.nodeId,
      attempt: input.attempt,
      maximumAttempts: input.maximumAttempts,
      ...(input.ledger ? { ledger: input.ledger } : {}),
      ...(voice.credentialId ? { credentialId: voice.credentialId } : {}),
    };
  }

  return {
    /** One participant speaks: its text streams as the turn's deltas (round = the turn). */
    async runConversationTurn(input: ConversationTurnInput): Promise<AgentTurnOutput> {
      const participants = input.participants.map((name) => ({ name }));
      const { system, prompt, messages } = turnRequest(participants, input.speaker.name, { topic: input.topic, systems: input.systems }, input.transcript);
      return runAgentTurn({
        ...baseInput(input, input.speaker),
        deltaRound: input.round,
        runOutputBytes: input.runOutputBytes,
        // The node's output holds the transcript so far besides this turn.
        toolCallBytes: jsonBytes(input.transcript),
        request: {
          provider: input.speaker.provider,
          model: input.speaker.model,
          system,
          prompt,
          messages,
          ...(input.timeoutSeconds !== undefined ? { timeoutMs: input.timeoutSeconds * 1000 } : {}),
        },
      });
    },

    /** A model names who speaks next; nothing streams (the name is not part of any turn's text). */
    async selectConversationSpeaker(input: SelectSpeakerInput): Promise<AgentTurnOutput> {
      const participants = input.participants.map((name) => ({ name }));
      const { system, prompt } = selectorRequest(participants, { topic: input.topic, systems: input.systems }, input.transcript, input.candidates);
      return runAgentTurn({
        ...baseInput(input, input.selector),
        deltaRound: null,
        request: {
          provider: input.selector.provider,
          model: input.selector.model,
          system,
          prompt,
          maxTokens: SELECTOR_MAX_TOKENS,
          temperature: 0,
          ...(input.timeoutSeconds !== undefined ? { timeoutMs: input.timeoutSeconds * 1000 } : {}),
        },
      });
    },
  };
}
