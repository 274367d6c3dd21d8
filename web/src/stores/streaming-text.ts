// The text agents are streaming in a run (`delta` socket messages, DESIGN §8), per node: the chunks of its
// latest model call appended in order. A later round or a retried attempt (`attempt` rises) starts afresh; the
// node's end drops it, since the stored output then carries the whole text.
export interface DeltaMessage {
  type: 'delta';
  executionId: string;
  nodeId: string;
  round: number;
  attempt: number;
  text: string;
}

export interface StreamingText {
  round: number;
  attempt: number;
  text: string;
}

export type StreamingTexts = Readonly<Record<string, StreamingText>>;

export function applyDelta(texts: StreamingTexts, delta: DeltaMessage): StreamingTexts {
  const now = texts[delta.nodeId];
  if (now && (delta.round < now.round || (delta.round === now.round && delta.attempt < now.attempt))) return texts; // a late chunk of an older call
  const same = now && now.round === delta.round && now.attempt === delta.attempt;
  return { ...texts, [delta.nodeId]: { round: delta.round, attempt: delta.attempt, text: (same ? now.text : '') + delta.text } };
}

/** The node ended (or the run was read again): what streamed is in its output now. */
export function dropStreamingText(texts: StreamingTexts, nodeId: string): StreamingTexts {
  if (!(nodeId in texts)) return texts;
  return Object.fromEntries(Object.entries(texts).filter(([id]) => id !== nodeId));
}
