// The run view of a conversation node: its turns folded from the events (core/run-view.ts with
// core/conversation-view.ts), the turn being spoken with its streamed text, and the transcript whole from the
// stored output; texts as text, never HTML.
import { mount } from '@vue/test-utils';
import { describe, expect, test } from 'vitest';
import type { ConversationTurnView } from '../../../../core/conversation-view';
import { applyEvents, emptyRunView } from '../../../../core/run-view';
import { conversationTurns } from './conversation-turns';
import RunConversationTurns from './RunConversationTurns.vue';

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
const usage = { inputTokens: 4, outputTokens: 2, totalTokens: 6 };

function turnsAfter(...events: { type: string; data: Record<string, unknown> }[]): ConversationTurnView[] | undefined {
  const numbered = [{ type: 'node.started', data: { attempt: 1 } }, ...events].map((e, i) => ({ seq: i + 1, nodeId: 'chat', at: at(i), ...e }));
  return applyEvents(emptyRunView(['chat']), numbered).view.nodes.chat!.turns;
}
const turn = (round: number, speaker: string, text: string) => ({ type: 'conversation.turn', data: { status: 'running', round, attempt: 1, speaker, text, usage, model: 'm' } });
const selected = (round: number, speaker: string) => ({ type: 'conversation.speaker_selected', data: { status: 'running', round, attempt: 1, speaker, chosenBy: 'model', usage } });

describe('conversationTurns', () => {
  test('lists the turns the events told, then the chosen speaker speaking with what streamed', () => {
    const turns = turnsAfter(turn(1, 'alice', 'Hello'), selected(2, 'carol'));
    const shown = conversationTurns(turns, null, 'I think', 'running');
    expect(shown).toEqual([
      { round: 1, speaker: 'alice', text: 'Hello', usage, chosenBy: null, speaking: false },
      { round: 2, speaker: 'carol', text: 'I think', usage: null, chosenBy: 'model', speaking: true },
    ]);
  });

  test('a repeated event changes nothing; a finished node shows no turn in flight', () => {
    const turns = turnsAfter(turn(1, 'alice', 'Hello'), turn(1, 'alice', 'Hello'));
    expect(turns).toHaveLength(1);
    expect(conversationTurns(turns, null, undefined, 'failed').map((t) => t.speaking)).toEqual([false]);
  });

  test('the stored output gives every turn whole, with the usage the events told', () => {
    const turns = turnsAfter(turn(1, 'alice', 'He'), turn(2, 'bob', 'Yo'));
    const output = { transcript: [{ speaker: 'alice', text: 'Hello in full' }, { speaker: 'bob', text: 'Yo in full' }], text: 'Yo in full', rounds: 2, usage };
    expect(conversationTurns(turns, output, undefined, 'succeeded').map((t) => [t.speaker, t.text, t.usage?.totalTokens])).toEqual([
      ['alice', 'Hello in full', 6],
      ['bob', 'Yo in full', 6],
    ]);
  });
});

describe('RunConversationTurns', () => {
  test('shows each turn with its speaker, text (as text) and usage, and the turn being spoken', () => {
    const turns = turnsAfter(turn(1, 'alice', '<b>not bold</b>'), selected(2, 'bob'));
    const wrapper = mount(RunConversationTurns, { props: { turns, output: null, streaming: 'Well', nodeStatus: 'running' } });
    const items = wrapper.findAll('[data-testid="run-turn"]');
    expect(items).toHaveLength(2);
    expect(items[0]!.get('[data-testid="run-turn-speaker"]').text()).toBe('alice');
    expect(items[0]!.get('[data-testid="run-turn-text"]').text()).toBe('<b>not bold</b>');
    expect(items[0]!.find('b').exists()).toBe(false);
    expect(items[0]!.get('[data-testid="run-turn-usage"]').text()).toContain('6 tokens');
    expect(items[1]!.find('[data-testid="run-turn-speaking"]').exists()).toBe(true);
    expect(items[1]!.get('[data-testid="run-turn-chosen"]').text()).toContain('chosen by the model');
    expect(items[1]!.get('[data-testid="run-turn-text"]').text()).toBe('Well');
  });

  test('from the stored output alone (a run read later), with the total usage', () => {
    const output = { transcript: [{ speaker: 'alice', text: 'a' }, { speaker: 'bob', text: 'b' }, { speaker: 'carol', text: 'c DONE' }], text: 'c DONE', rounds: 3, usage: { inputTokens: 30, outputTokens: 9, totalTokens: 39 } };
    const wrapper = mount(RunConversationTurns, { props: { turns: undefined, output, nodeStatus: 'succeeded' } });
    expect(wrapper.findAll('[data-testid="run-turn-speaker"]').map((s) => s.text())).toEqual(['alice', 'bob', 'carol']);
    expect(wrapper.text()).toContain('3 turns');
    expect(wrapper.text()).toContain('39 tokens');
  });
});
