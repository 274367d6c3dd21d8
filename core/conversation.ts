// The `conversation` node (DESIGN.md §8), AutoGen-style group chat: who speaks next (round robin, or a model
// asked), when the conversation ends (maxRounds, or a turn containing `terminateOn`), what each speaker and
// the speaker selection are sent, and the node's output. Pure and deterministic: the run machine decides with
// it, the turn activity builds its requests with it, and the workflow bundle imports it.
import type { NodeEvaluationRequest } from './evaluation-protocol';
import type { ConversationData, ConversationParticipant } from './graph';
import { addUsage, type TokenUsage } from './tool-loop';

/** One turn of the transcript: who spoke and what they said. */
export interface ConversationTurn {
  speaker: string;
  text: string;
}

export interface ConversationOutput {
  transcript: ConversationTurn[];
  /** The last turn's text. */
  text: string;
  rounds: number;
  /** Every model call's usage summed: the turns' and the speaker selections'. */
  usage: TokenUsage;
}

/** The node's texts as rendered once, when it starts: the topic, and each participant's system prompt by name. */
export interface ConversationTexts {
  topic: string;
  systems: Record<string, string>;
}

/** Where a running conversation is; the run machine keeps it, so a replayed run resumes at the same turn. */
export interface ConversationProgress {
  texts: ConversationTexts;
  transcript: ConversationTurn[];
  usage: TokenUsage;
  /** The turn in flight, or whose speaker is being chosen (1-based). */
  round: number;
  /** Who speaks in `round`; null while a model chooses among `candidates`. */
  speaker: string | null;
  candidates: string[];
}

/** What comes after a step of the conversation. */
export type ConversationNext =
  | { kind: 'turn'; speaker: string }
  | { kind: 'select'; candidates: string[] }
  | { kind: 'done'; output: ConversationOutput; reason: 'max_rounds' | 'terminated' };

/** A message as a speaker sees it: its own turns are the assistant's, everyone else's the user's. */
export interface ConversationMessage {
  role: 'user' | 'assistant';
  text: string;
}

/** A request's texts in the providers' shape: the first user message is the prompt, the rest follow it. */
export interface ConversationRequest {
  system: string;
  prompt: string;
  messages: ConversationMessage[];
}

/** How many characters of a participant's system prompt the speaker selection is shown, to describe it. */
export const SELECTOR_SYSTEM_CHARS = 300;
const ZERO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };

/** The texts to evaluate when the node starts: its topic, and `system.<index>` for each participant that has one. */
export function conversationEvaluation(nodeId: string, data: ConversationData): NodeEvaluationRequest {
  const fields: NodeEvaluationRequest['fields'] = { topic: { kind: 'template', source: data.topic } };
  data.participants.forEach((p, index) => {
    if (p.system !== undefined) fields[`system.${index}`] = { kind: 'template', source: p.system };
  });
  return { nodeId, fields };
}

/** The evaluated values of `conversationEvaluation` as the conversation's texts. */
export function conversationTexts(data: ConversationData, values: Record<string, unknown>): ConversationTexts {
  const systems: Record<string, string> = {};
  data.participants.forEach((p, index) => {
    if (p.system !== undefined) systems[p.name] = String(values[`system.${index}`] ?? '');
  });
  return { topic: String(values.topic ?? ''), systems };
}

/** The participant who speaks first, in either mode: the first one (it opens the topic; no model is asked). */
export function startConversation(data: ConversationData, texts: ConversationTexts): { progress: ConversationProgress; next: ConversationNext } {
  const speaker = data.participants[0]!.name;
  return { progress: { texts, transcript: [], usage: ZERO_USAGE, round: 1, speaker, candidates: [] }, next: { kind: 'turn', speaker } };
}

/**
 * A turn answered: it joins the transcript. The conversation ends when the text contains `terminateOn` (case
 * sensitive, as AutoGen's text-mention termination) or `maxRounds` turns were spoken; else the next speaker is
 * the next participant in order (round_robin), or, under `auto`, the one a model picks from everyone but the
 * last speaker (with only one such participant, no model is asked).
 */
export function afterTurn(
  data: ConversationData,
  progress: ConversationProgress,
  turn: { text: string; usage: TokenUsage },
): { progress: ConversationProgress; next: ConversationNext } {
  const speaker = progress.speaker ?? data.participants[0]!.name;
  const transcript = [...progress.transcript, { speaker, text: turn.text }];
  const usage = addUsage(progress.usage, turn.usage);
  const spoken = { ...progress, transcript, usage, round: progress.round + 1, speaker: null, candidates: [] };
  const terminated = data.terminateOn !== undefined && turn.text.includes(data.terminateOn);
  if (terminated || transcript.length >= data.maxRounds) {
    return { progress: spoken, next: { kind: 'done', output: conversationOutput(transcript, usage), reason: terminated ? 'terminated' : 'max_rounds' } };
  }
  if (data.speakerSelection === 'round_robin') {
    const next = roundRobinAfter(data.participants, speaker);
    return { progress: { ...spoken, speaker: next }, next: { kind: 'turn', speaker: next } };
  }
  const candidates = candidatesAfter(data.participants, speaker);
  if (candidates.length === 1) return { progress: { ...spoken, speaker: candidates[0]! }, next: { kind: 'turn', speaker: candidates[0]! } };
  return { progress: { ...spoken, candidates }, next: { kind: 'select', candidates } };
}

/** The model named the next speaker: the candidate it named, or, when it named none, the next in order. */
export function afterSelection(
  progress: ConversationProgress,
  answer: { text: string; usage: TokenUsage },
): { progress: ConversationProgress; speaker: string; chosenBy: 'model' | 'fallback' } {
  const named = chosenSpeaker(answer.text, progress.candidates);
  const speaker = named ?? progress.candidates[0]!;
  return {
    progress: { ...progress, usage: addUsage(progress.usage, answer.usage), speaker, candidates: [] },
    speaker,
    chosenBy: named !== null ? 'model' : 'fallback',
  };
}

/** The candidate an answer names: the whole answer (trimmed, any case, quotes and a full stop aside), else the one named first in it. */
export function chosenSpeaker(answer: string, candidates: readonly string[]): string | null {
  const bare = answer.trim().replace(/^["'`*]+|["'`*.!]+$/g, '').trim().toLowerCase();
  const exact = candidates.find((c) => c.toLowerCase() === bare);
  if (exact !== undefined) return exact;
  const lower = answer.toLowerCase();
  let best: { name: string; at: number } | null = null;
  for (const name of candidates) {
    const at = lower.indexOf(name.toLowerCase());
    // A longer name found at the same place wins ("Ann" inside "Anna").
    if (at >= 0 && (best === null || at < best.at || (at === best.at && name.length > best.name.length))) best = { name, at };
  }
  return best?.name ?? null;
}

export function conversationOutput(transcript: ConversationTurn[], usage: TokenUsage): ConversationOutput {
  return { transcript, text: transcript[transcript.length - 1]?.text ?? '', rounds: transcript.length, usage };
}

/**
 * What `speaker` is sent for its turn: a system prompt saying who it is among whom (then its own system
 * prompt), the topic as the first user message, and the transcript, its own turns as the assistant's and the
 * others' as the user's, each prefixed with the speaker's name. Consecutive messages of one role are joined,
 * so the roles alternate as both APIs expect; if its own turn came last, it is asked to go on.
 */
export function turnRequest(participants: readonly Pick<ConversationParticipant, 'name'>[], speaker: string, texts: ConversationTexts, transcript: readonly ConversationTurn[]): ConversationRequest {
  const others = participants.map((p) => p.name).filter((n) => n !== speaker);
  const intro = `You are ${speaker}, one of the participants in a group conversation with ${others.join(', ')}. The others' messages begin with their name. Answer as ${speaker} only, without your name in front.`;
  const own = texts.systems[speaker];
  const messages: ConversationMessage[] = [{ role: 'user', text: texts.topic }];
  for (const turn of transcript) {
    const message: ConversationMessage = turn.speaker === speaker ? { role: 'assistant', text: turn.text } : { role: 'user', text: `${turn.speaker}: ${turn.text}` };
    const last = messages[messages.length - 1]!;
    if (last.role === message.role) messages[messages.length - 1] = { role: last.role, text: `${last.text}\n\n${message.text}` };
    else messages.push(message);
  }
  if (messages[messages.length - 1]!.role === 'assistant') messages.push({ role: 'user', text: `(${speaker}, please continue.)` });
  const [first, ...rest] = messages;
  return { system: own ? `${intro}\n\n${own}` : intro, prompt: first!.text, messages: rest };
}

/**
 * What the speaker selection asks a model (the first participant's provider, model and credential): the
 * participants with the start of their system prompts, the topic and the transcript, and to answer with one
 * candidate's name.
 */
export function selectorRequest(
  participants: readonly Pick<ConversationParticipant, 'name'>[],
  texts: ConversationTexts,
  transcript: readonly ConversationTurn[],
  candidates: readonly string[],
): { system: string; prompt: string } {
  const described = participants.map((p) => {
    const system = texts.systems[p.name]?.trim();
    return system ? `- ${p.name}: ${system.length > SELECTOR_SYSTEM_CHARS ? `${system.slice(0, SELECTOR_SYSTEM_CHARS)}…` : system}` : `- ${p.name}`;
  });
  const system = [
    'You choose who speaks next in a group conversation. The participants:',
    ...described,
    `Answer with the name of the next speaker only: one of ${candidates.join(', ')}.`,
  ].join('\n');
  const lines = transcript.map((t) => `${t.speaker}: ${t.text}`);
  const prompt = `Topic: ${texts.topic}\n\nThe conversation so far:\n${lines.join('\n\n')}\n\nWho speaks next? Answer with one name: ${candidates.join(', ')}.`;
  return { system, prompt };
}

/** The participant after `speaker`, in the order they are listed. */
function roundRobinAfter(participants: readonly ConversationParticipant[], speaker: string): string {
  const index = participants.findIndex((p) => p.name === speaker);
  return participants[(index + 1) % participants.length]!.name;
}

/** Everyone but the last speaker, starting after it (the fallback when the model names none is the first). */
function candidatesAfter(participants: readonly ConversationParticipant[], speaker: string): string[] {
  const index = participants.findIndex((p) => p.name === speaker);
  return participants.map((_, i) => participants[(index + 1 + i) % participants.length]!.name).filter((n) => n !== speaker);
}
