import { describe, expect, it } from 'vitest';
import { applyDelta, dropStreamingText, type DeltaMessage, type StreamingTexts } from './streaming-text';

const delta = (text: string, round = 1, attempt = 1, nodeId = 'a'): DeltaMessage => ({ type: 'delta', executionId: 'x', nodeId, round, attempt, text });
const fold = (deltas: DeltaMessage[], from: StreamingTexts = {}) => deltas.reduce(applyDelta, from);

describe('streaming text of a run', () => {
  it('appends the chunks of a call in order, per node', () => {
    expect(fold([delta('Hel'), delta('lo', 1, 1, 'b'), delta('lo')])).toEqual({ a: { round: 1, attempt: 1, text: 'Hello' }, b: { round: 1, attempt: 1, text: 'lo' } });
  });

  it('starts afresh for a retried attempt and for the next round; an older call’s late chunk is ignored', () => {
    const retried = fold([delta('first try'), delta('second', 1, 2)]);
    expect(retried.a).toEqual({ round: 1, attempt: 2, text: 'second' });
    expect(fold([delta('late', 1, 1)], retried).a!.text).toBe('second');
    expect(fold([delta('round two', 2, 1)], retried).a).toEqual({ round: 2, attempt: 1, text: 'round two' });
  });

  it("drops a node's text when it ends", () => {
    const texts = fold([delta('x'), delta('y', 1, 1, 'b')]);
    expect(dropStreamingText(texts, 'a')).toEqual({ b: texts.b });
    expect(dropStreamingText(texts, 'zz')).toBe(texts);
  });
});
