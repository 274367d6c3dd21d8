import { createRepairGate, lastProgressAt } from './repair-gate';

const STALE = 30_000;

describe('the repair gate (when reading a run asks Temporal)', () => {
  it.each([
    { what: 'a row that moved just now', progressAgo: 1_000, refresh: false, asks: false },
    { what: 'a row just short of the threshold', progressAgo: STALE - 1, refresh: false, asks: false },
    { what: 'a row with no progress for the threshold', progressAgo: STALE, refresh: false, asks: true },
    { what: 'a stale row', progressAgo: 10 * STALE, refresh: false, asks: true },
    { what: 'a fresh row with ?refresh=true', progressAgo: 0, refresh: true, asks: true },
  ])('$what: asks=$asks', ({ progressAgo, refresh, asks }) => {
    const now = 1_000_000;
    const gate = createRepairGate({ staleMs: STALE, now: () => now });
    expect(gate.shouldAsk('run', now - progressAgo, refresh)).toBe(asks);
  });

  it('does not ask again for a stale run it checked until another threshold has passed', () => {
    let now = 1_000_000;
    const gate = createRepairGate({ staleMs: STALE, now: () => now });
    const progress = now - 5 * STALE;
    expect(gate.shouldAsk('run', progress, false)).toBe(true);
    gate.asked('run');
    now += STALE - 1;
    expect(gate.shouldAsk('run', progress, false)).toBe(false);
    expect(gate.shouldAsk('other run', progress, false)).toBe(true);
    expect(gate.shouldAsk('run', progress, true)).toBe(true);
    now += 1;
    expect(gate.shouldAsk('run', progress, false)).toBe(true);
  });

  it('with a threshold of 0 asks on every read', () => {
    const gate = createRepairGate({ staleMs: 0, now: () => 5 });
    gate.asked('run');
    expect(gate.shouldAsk('run', 5, false)).toBe(true);
  });

  it('takes the newest of created, started and every node start and finish as the last progress', () => {
    const t = (s: number) => new Date(s * 1000);
    expect(lastProgressAt({ createdAt: t(1), startedAt: null }, [])).toBe(1000);
    expect(lastProgressAt({ createdAt: t(1), startedAt: t(2) }, [{ startedAt: t(3), finishedAt: t(7) }, { startedAt: t(9), finishedAt: null }, { startedAt: null, finishedAt: null }])).toBe(9000);
  });
});
