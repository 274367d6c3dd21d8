// The run view's rounds of a tool-using agent: live from the events (core/run-view.ts folds them), completed
// from the stored output, results as text (never HTML) and long ones folded behind a toggle.
import { mount } from '@vue/test-utils';
import { describe, expect, test } from 'vitest';
import { applyEvents, emptyRunView, type RoundView } from '../../../../core/run-view';
import { agentRounds, nextModelCallRunning, RESULT_FOLD_CHARS } from './agent-rounds';
import RunAgentRounds from './RunAgentRounds.vue';

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
let seq = 0;
const event = (type: string, second: number, data: Record<string, unknown>) => ({ seq: ++seq, type, nodeId: 'a', at: at(second), data });

/** The rounds of node `a` after these events. */
function roundsAfter(...events: ReturnType<typeof event>[]): RoundView[] {
  seq = 0;
  const numbered = events.map((e, i) => ({ ...e, seq: i + 1 }));
  return applyEvents(emptyRunView(['a']), numbered).view.nodes.a!.rounds;
}

const started = () => event('node.started', 0, { attempt: 1 });
const answered = (round: number, second: number, toolCalls: string[]) =>
  event('model_call.succeeded', second, { round, attempt: 1, model: 'm-1', usage: { inputTokens: 10, outputTokens: 3, totalTokens: 13 }, toolCalls, preview: '' });
const callStarted = (round: number, id: string, second: number, args: unknown, callStatus = 'running') => event('tool_call.started', second, { round, callId: id, tool: 'lookup', arguments: args, callStatus });
const callOk = (round: number, id: string, second: number, preview: string) => event('tool_call.succeeded', second, { round, callId: id, tool: 'lookup', durationMs: 420, outputBytes: preview.length, preview });
const callFailed = (round: number, id: string, second: number, error: string) => event('tool_call.failed', second, { round, callId: id, tool: 'lookup', durationMs: 0, error });

function view(rounds: RoundView[], output: unknown = null, nodeStatus = 'running') {
  return mount(RunAgentRounds, { props: { rounds, output, nodeStatus } });
}

describe('agentRounds', () => {
  test("completes each call from the stored output by id, and lists calls only the output knows", () => {
    const rounds = roundsAfter(started(), answered(1, 1, ['lookup']), callStarted(1, 'c1', 1, { q: 'tea' }), callOk(1, 'c1', 2, '{"status":200'));
    const shown = agentRounds(rounds, { text: 'x', toolCalls: [{ id: 'c1', name: 'lookup', arguments: { q: 'tea' }, result: { status: 200, body: 'about tea' } }, { id: 'c0', name: 'old', arguments: {}, error: 'nope' }] });
    expect(shown.map((r) => r.round)).toEqual([1, null]);
    expect(shown[0]!.calls[0]).toMatchObject({ id: 'c1', status: 'succeeded', result: { status: 200, body: 'about tea' }, durationMs: 420 });
    expect(shown[1]!.calls[0]).toMatchObject({ id: 'c0', status: 'failed', error: 'nope', result: undefined });
  });

  test('the next model call runs once every call of the last round ended', () => {
    const one = roundsAfter(started(), answered(1, 1, ['lookup']), callStarted(1, 'c1', 1, {}));
    expect(nextModelCallRunning(one, 'running')).toBe(false);
    const ended = roundsAfter(started(), answered(1, 1, ['lookup']), callStarted(1, 'c1', 1, {}), callOk(1, 'c1', 2, '{}'));
    expect(nextModelCallRunning(ended, 'running')).toBe(true);
    expect(nextModelCallRunning(ended, 'succeeded')).toBe(false);
  });
});

describe('RunAgentRounds', () => {
  test('live: a round, its model call and a running call with its arguments as pretty JSON', () => {
    const w = view(roundsAfter(started(), answered(1, 2, ['lookup']), callStarted(1, 'c1', 2, { q: 'tea', n: 1 })));
    const round = w.get('[data-testid="run-round"][data-round="1"]');
    expect(round.get('[data-testid="run-round-model-status"]').text()).toBe('succeeded');
    expect(round.get('[data-testid="run-round-model-duration"]').text()).toBe('2.00 s');
    expect(round.get('[data-testid="run-round-model-usage"]').text()).toContain('13 tokens');
    const call = round.get('[data-testid="run-tool-call"][data-call-id="c1"]');
    expect(call.get('[data-testid="run-tool-call-name"]').text()).toBe('lookup');
    expect(call.get('[data-testid="run-tool-call-status"]').text()).toBe('running');
    expect(call.get('[data-testid="run-tool-call-arguments"]').text()).toBe(JSON.stringify({ q: 'tea', n: 1 }, null, 2));
    expect(call.find('[data-testid="run-tool-call-result"]').exists()).toBe(false);
  });

  test('a call waiting for a person says so', () => {
    const w = view(roundsAfter(started(), answered(1, 1, ['lookup']), callStarted(1, 'c1', 1, {}, 'waiting')));
    expect(w.get('[data-testid="run-tool-call-status"]').text()).toBe('awaiting approval');
  });

  test('ended calls: a result preview with its size, an error, a duration; then the next model call running', () => {
    const rounds = roundsAfter(started(), answered(1, 1, ['lookup', 'lookup']), callStarted(1, 'c1', 1, {}), callStarted(1, 'c2', 1, {}), callOk(1, 'c1', 2, '{"answer":"about tea"}'), callFailed(1, 'c2', 2, 'arguments do not fit'));
    const w = view(rounds);
    const ok = w.get('[data-call-id="c1"]');
    expect(ok.get('[data-testid="run-tool-call-status"]').text()).toBe('succeeded');
    expect(ok.get('[data-testid="run-tool-call-duration"]').text()).toBe('420 ms');
    expect(ok.get('[data-testid="run-tool-call-result"]').text()).toBe('{"answer":"about tea"}');
    expect(ok.text()).toContain('first characters, 22 bytes');
    const bad = w.get('[data-call-id="c2"]');
    expect(bad.get('[data-testid="run-tool-call-status"]').text()).toBe('failed');
    expect(bad.get('[data-testid="run-tool-call-error"]').text()).toBe('arguments do not fit');
    expect(w.get('[data-testid="run-round"][data-round="2"] [data-testid="run-round-model-status"]').text()).toBe('running');
  });

  test('complete from the output: the whole result, long ones folded behind a toggle; HTML stays text', async () => {
    const rounds = roundsAfter(started(), answered(1, 1, ['lookup']), callStarted(1, 'c1', 1, {}), callOk(1, 'c1', 2, '<img src=x onerror=alert(1)>'), answered(2, 3, []));
    const long = `<img src=x onerror=alert(1)>${'x'.repeat(RESULT_FOLD_CHARS * 2)}`;
    const w = view(rounds, { text: 'done', toolCalls: [{ id: 'c1', name: 'lookup', arguments: {}, result: long }] }, 'succeeded');
    const result = w.get('[data-testid="run-tool-call-result"]');
    expect(w.find('img').exists()).toBe(false);
    expect(result.text()).toBe(`${long.slice(0, RESULT_FOLD_CHARS)}…`);
    const toggle = w.get('[data-testid="run-tool-call-result-toggle"]');
    expect(toggle.attributes('aria-expanded')).toBe('false');
    await toggle.trigger('click');
    expect(w.get('[data-testid="run-tool-call-result"]').text()).toBe(long);
    expect(w.get('[data-testid="run-tool-call-result-toggle"]').attributes('aria-expanded')).toBe('true');
    expect(w.findAll('[data-testid="run-round"]')).toHaveLength(2);
  });

  test("a call still open when its node ended shows as stopped", () => {
    const w = view(roundsAfter(started(), answered(1, 1, ['lookup']), callStarted(1, 'c1', 1, {})), null, 'cancelled');
    expect(w.get('[data-testid="run-tool-call-status"]').text()).toBe('stopped');
  });
});
