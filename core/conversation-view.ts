// A conversation node's turns as a run view shows them, folded from its `conversation.speaker_selected` and
// `conversation.turn` events (core/run-ledger.ts): who spoke in each turn, what they said (the event's text,
// capped; the node's output has it whole), the usage and, under `auto`, how the speaker was chosen.
// core/run-view.ts folds these into the node's view; pure, the browser imports it.

/** One turn as its events tell it; `text` is null while the chosen speaker has not answered yet. */
export interface ConversationTurnView {
  round: number;
  speaker: string;
  text: string | null;
  /** The event's text was cut to CONVERSATION_TURN_EVENT_CHARS (core/run-ledger.ts). */
  truncated: boolean;
  usage: { inputTokens: number; outputTokens: number; totalTokens: number } | null;
  model: string | null;
  /** `model`: a model named this speaker; `fallback`: it named none, the next in order spoke; null: round robin or the first turn. */
  chosenBy: 'model' | 'fallback' | null;
  at: string | null;
}

export const CONVERSATION_EVENTS: readonly string[] = ['conversation.speaker_selected', 'conversation.turn'];

/** One conversation event folded into the turns (in turn order); a repeated one changes nothing. */
export function turnsAfter(turns: readonly ConversationTurnView[] | undefined, type: string, data: Record<string, unknown>, at: string): ConversationTurnView[] {
  const list = [...(turns ?? [])];
  const round = typeof data.round === 'number' ? data.round : null;
  const speaker = typeof data.speaker === 'string' ? data.speaker : null;
  if (round === null || speaker === null) return list;
  const index = list.findIndex((t) => t.round === round);
  const current: ConversationTurnView = list[index] ?? { round, speaker, text: null, truncated: false, usage: null, model: null, chosenBy: null, at: null };
  let next: ConversationTurnView;
  if (type === 'conversation.speaker_selected') {
    if (current.text !== null) return list;
    next = { ...current, speaker, chosenBy: data.chosenBy === 'model' || data.chosenBy === 'fallback' ? data.chosenBy : null };
  } else {
    next = {
      ...current,
      speaker,
      text: typeof data.text === 'string' ? data.text : '',
      truncated: data.truncated === true,
      usage: usageOf(data.usage),
      model: typeof data.model === 'string' ? data.model : null,
      at,
    };
  }
  if (index < 0) list.push(next);
  else list[index] = next;
  return list.sort((a, b) => a.round - b.round);
}

function usageOf(value: unknown): ConversationTurnView['usage'] {
  if (typeof value !== 'object' || value === null) return null;
  const u = value as Record<string, unknown>;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return { inputTokens: n(u.inputTokens), outputTokens: n(u.outputTokens), totalTokens: n(u.totalTokens) || n(u.inputTokens) + n(u.outputTokens) };
}
