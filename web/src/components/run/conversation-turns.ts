// What a conversation node's run view lists, turn by turn: the turns its events told (live), made whole from
// the node's stored output once it succeeded (its transcript has every text in full), and the turn being
// spoken now with what it has streamed so far.
import type { ConversationTurnView } from '../../../../core/conversation-view';

export interface ShownTurn {
  /** 1-based; the turn being spoken has the next number. */
  round: number;
  /** Empty while nobody is named yet (round robin names the speaker with its answer). */
  speaker: string;
  text: string;
  usage: ConversationTurnView['usage'];
  chosenBy: ConversationTurnView['chosenBy'];
  /** The turn in flight: its text is what streamed so far. */
  speaking: boolean;
}

function transcriptOf(output: unknown): { speaker: string; text: string }[] | null {
  const transcript = (output as { transcript?: unknown } | null | undefined)?.transcript;
  if (!Array.isArray(transcript)) return null;
  return transcript.map((t: unknown) => {
    const turn = (t ?? {}) as { speaker?: unknown; text?: unknown };
    return { speaker: typeof turn.speaker === 'string' ? turn.speaker : '', text: typeof turn.text === 'string' ? turn.text : '' };
  });
}

export function conversationTurns(live: readonly ConversationTurnView[] | undefined, output: unknown, streaming: string | undefined, nodeStatus: string | undefined): ShownTurn[] {
  const turns = live ?? [];
  const byRound = new Map(turns.map((t) => [t.round, t]));
  const stored = transcriptOf(output);
  if (stored) {
    return stored.map((t, i) => ({ round: i + 1, speaker: t.speaker, text: t.text, usage: byRound.get(i + 1)?.usage ?? null, chosenBy: byRound.get(i + 1)?.chosenBy ?? null, speaking: false }));
  }
  const shown: ShownTurn[] = turns
    .filter((t) => t.text !== null)
    .map((t) => ({ round: t.round, speaker: t.speaker, text: t.text ?? '', usage: t.usage, chosenBy: t.chosenBy, speaking: false }));
  if (nodeStatus !== 'running') return shown;
  const next = turns.find((t) => t.text === null);
  const round = next?.round ?? (shown[shown.length - 1]?.round ?? 0) + 1;
  if (next || streaming) shown.push({ round, speaker: next?.speaker ?? '', text: streaming ?? '', usage: null, chosenBy: next?.chosenBy ?? null, speaking: true });
  return shown;
}

export function usageText(usage: NonNullable<ShownTurn['usage']>): string {
  return `${usage.inputTokens} in · ${usage.outputTokens} out · ${usage.totalTokens} tokens`;
}
