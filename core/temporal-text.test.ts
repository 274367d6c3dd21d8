import { TEMPORAL_TEXT_MAX_CHARS, temporalText } from './run-protocol';

describe('a text Temporal recorded for a client (identity, termination reason)', () => {
  it('is kept as it is up to the cap, cut beyond it, and null when Temporal recorded none', () => {
    expect(temporalText('ops@laptop')).toBe('ops@laptop');
    expect(temporalText('x'.repeat(TEMPORAL_TEXT_MAX_CHARS + 50))).toHaveLength(TEMPORAL_TEXT_MAX_CHARS);
    expect(temporalText('')).toBeNull();
    expect(temporalText(undefined)).toBeNull();
    expect(temporalText(null)).toBeNull();
  });
});
