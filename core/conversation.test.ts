import { compileGraph } from './compile';
import { afterSelection, afterTurn, chosenSpeaker, startConversation, turnRequest, selectorRequest, type ConversationProgress } from './conversation';
import type { CanvasNode, ConversationData } from './graph';
import { conversationDataSchema } from './graph';
import type { NodeEvaluationResult } from './evaluation-protocol';
import { type Command, type Happening } from './run-machine';
import { feedMachine } from '../test/support/machine-steps';
import { validateGraph } from './validate';

const T = '2026-01-01T00:00:00.000Z';
const usage = (n: number) => ({ inputTokens: n, outputTokens: n, totalTokens: 2 * n });
const people = [
  { name: 'alice', provider: 'openai', model: 'm-a', system: 'You plan.' },
  { name: 'bob', provider: 'openai', model: 'm-b' },
  { name: 'carol', provider: 'anthropic', model: 'm-c', system: 'You review {{inputs.topic}}.' },
];
const data = (extra: Partial<ConversationData> = {}): ConversationData =>
  conversationDataSchema.parse({ participants: people, topic: 'Plan {{inputs.topic}}', maxRounds: 5, speakerSelection: 'round_robin', ...extra });
const texts = { topic: 'Plan tea', systems: { alice: 'You plan.', carol: 'You review tea.' } };

describe('core/conversation', () => {
  it('round_robin: the first participant opens, then each in order, until maxRounds', () => {
    const d = data({ maxRounds: 4 });
    let { progress, next } = startConversation(d, texts);
    const speakers: string[] = [];
    while (next.kind === 'turn') {
      speakers.push(next.speaker);
      ({ progress, next } = afterTurn(d, progress, { text: `${next.speaker} says`, usage: usage(1) }));
    }
    expect(speakers).toEqual(['alice', 'bob', 'carol', 'alice']);
    expect(next).toEqual({
      kind: 'done',
      reason: 'max_rounds',
      output: { transcript: speakers.map((s) => ({ speaker: s, text: `${s} says` })), text: 'alice says', rounds: 4, usage: usage(4) },
    });
  });

  it('terminateOn ends the conversation after the turn whose text contains it (case sensitive)', () => {
    const d = data({ terminateOn: 'DONE' });
    let { progress } = startConversation(d, texts);
    let r = afterTurn(d, progress, { text: 'not done yet', usage: usage(1) });
    expect(r.next.kind).toBe('turn');
    progress = r.progress;
    r = afterTurn(d, progress, { text: 'agreed. DONE', usage: usage(2) });
    expect(r.next).toMatchObject({ kind: 'done', reason: 'terminated', output: { rounds: 2, text: 'agreed. DONE', usage: usage(3) } });
  });

  it('auto: a model chooses among everyone but the last speaker; with one such participant nobody is asked', () => {
    const d = data({ speakerSelection: 'auto' });
    const { progress } = startConversation(d, texts);
    const r = afterTurn(d, progress, { text: 'hi', usage: usage(1) });
    expect(r.next).toEqual({ kind: 'select', candidates: ['bob', 'carol'] });
    const chosen = afterSelection(r.progress, { text: ' Carol.', usage: usage(1) });
    expect(chosen).toMatchObject({ speaker: 'carol', chosenBy: 'model', progress: { speaker: 'carol', round: 2, usage: usage(2) } });
    const fallback = afterSelection(r.progress, { text: 'nobody', usage: usage(0) });
    expect(fallback).toMatchObject({ speaker: 'bob', chosenBy: 'fallback' });
    const two = data({ speakerSelection: 'auto', participants: people.slice(0, 2) as ConversationData['participants'] });
    const pair = afterTurn(two, startConversation(two, texts).progress, { text: 'hi', usage: usage(1) });
    expect(pair.next).toEqual({ kind: 'turn', speaker: 'bob' });
  });

  it('reads the chosen name from the whole answer, else the first name in it', () => {
    expect(chosenSpeaker('bob', ['bob', 'carol'])).toBe('bob');
    expect(chosenSpeaker('"CAROL"', ['bob', 'carol'])).toBe('carol');
    expect(chosenSpeaker('I think carol, then bob', ['bob', 'carol'])).toBe('carol');
    expect(chosenSpeaker('Anna should', ['Ann', 'Anna'])).toBe('Anna');
    expect(chosenSpeaker('someone else', ['bob', 'carol'])).toBeNull();
  });

  it("sends a speaker its own turns as the assistant's and the others' as the user's, names prefixed, roles alternating", () => {
    const transcript = [
      { speaker: 'alice', text: 'a1' },
      { speaker: 'bob', text: 'b1' },
      { speaker: 'carol', text: 'c1' },
    ];
    expect(turnRequest(people, 'bob', texts, transcript)).toEqual({
      system: expect.stringContaining('You are bob'),
      prompt: 'Plan tea\n\nalice: a1',
      messages: [
        { role: 'assistant', text: 'b1' },
        { role: 'user', text: 'carol: c1' },
      ],
    });
    const alice = turnRequest(people, 'alice', texts, transcript);
    expect(alice.system).toMatch(/You are alice[\s\S]*\n\nYou plan\.$/);
    expect(alice.prompt).toBe('Plan tea');
    expect(alice.messages).toEqual([
      { role: 'assistant', text: 'a1' },
      { role: 'user', text: 'bob: b1\n\ncarol: c1' },
    ]);
    // Its own turn last (never under the machine's selection, but the request stays well-formed).
    expect(turnRequest(people, 'carol', texts, transcript).messages.at(-1)).toEqual({ role: 'user', text: '(carol, please continue.)' });
  });

  it('asks the selection model for one of the candidates, showing the participants and the transcript', () => {
    const { system, prompt } = selectorRequest(people, texts, [{ speaker: 'alice', text: 'a1' }], ['bob', 'carol']);
    expect(system).toContain('- alice: You plan.');
    expect(system).toContain('- bob\n');
    expect(system).toContain('one of bob, carol');
    expect(prompt).toContain('Topic: Plan tea');
    expect(prompt).toContain('alice: a1');
  });
});

describe('the conversation node in the validator', () => {
  const graph = (conv: Record<string, unknown>) => ({
    nodes: [
      { id: 'start', type: 'trigger', data: {} },
      { id: 'c', type: 'conversation', data: conv },
      { id: 'out', type: 'output', data: { value: '{{nodes.c.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'c' },
      { id: 'e2', source: 'c', target: 'out' },
    ],
  });
  const messages = (conv: Record<string, unknown>) => validateGraph(graph(conv)).errors.map((e) => e.message);

  it('accepts a conversation and refuses one participant, repeated names, rounds out of range and bad templates', () => {
    expect(validateGraph(graph({ participants: people, topic: 't', maxRounds: 3, speakerSelection: 'auto' })).valid).toBe(true);
    expect(messages({ participants: people.slice(0, 1), topic: 't' })).toEqual(['node "c": data.participants: a conversation needs at least two participants']);
    expect(messages({ participants: [people[0], { ...people[1], name: 'Alice' }], topic: 't' })).toEqual([
      'node "c": data.participants[1]: the participant name "Alice" is used more than once',
    ]);
    expect(messages({ participants: people, topic: 't', maxRounds: 51 })[0]).toMatch(/data\.maxRounds/);
    expect(messages({ participants: people, topic: 't', speakerSelection: 'manager' })[0]).toMatch(/data\.speakerSelection/);
    expect(messages({ participants: people, topic: '{{#if}}' })[0]).toMatch(/data\.topic is not a valid template/);
    expect(messages({ participants: [people[0], { ...people[1], system: '{{#each}}' }], topic: 't' })[0]).toMatch(/participants\[1\] \(bob\): system is not a valid template/);
  });
});

const conversationPlan = (extra: Record<string, unknown> = {}) =>
  compileGraph(
    {
      nodes: [
        { id: 'start', type: 'trigger', data: {} },
        { id: 'c', type: 'conversation', data: { participants: people, topic: 'Plan {{inputs.topic}}', maxRounds: 4, ...extra } } as CanvasNode,
        { id: 'out', type: 'output', data: { value: '{{nodes.c.text}}' } },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'c' },
        { id: 'e2', source: 'c', target: 'out' },
      ],
    },
    { workflowId: 'wf', workflowVersion: 1 },
  );

const evaluatedConversation: Happening = {
  type: 'evaluated',
  at: T,
  results: { c: { status: 'evaluated', values: { topic: 'Plan tea', 'system.0': 'You plan.', 'system.2': 'You review tea.' }, bytes: 10 } as NodeEvaluationResult },
};
const turn = (round: number, text: string, attempt = 1): Happening => ({ type: 'turnAnswered', at: T, nodeId: 'c', round, attempt, answer: { text, usage: usage(1), model: 'm' } });

const feed = (p: ReturnType<typeof conversationPlan>, happenings: Happening[]) => feedMachine(p, happenings);
const calls = (commands: Command[]) =>
  commands.flatMap((c) =>
    c.type === 'callTurn' ? [`turn:${c.round}:${c.speaker}#${c.attempt}@${c.delayMs}`] : c.type === 'selectSpeaker' ? [`select:${c.round}:${c.candidates.join('|')}#${c.attempt}`] : [],
  );

describe('the run machine on a conversation', () => {
  it('one callTurn per turn with the transcript so far; each turn recorded once; the output after maxRounds', () => {
    const { state, steps } = feed(conversationPlan(), [evaluatedConversation, turn(1, 'a1'), turn(2, 'b1'), turn(3, 'c1'), turn(4, 'a2')]);
    expect(steps.map((s) => calls(s.commands))).toEqual([[], ['turn:1:alice#1@0'], ['turn:2:bob#1@0'], ['turn:3:carol#1@0'], ['turn:4:alice#1@0'], []]);
    expect(steps[1]!.ledger.events.map((e) => e.type)).toEqual(['node.started']);
    const third = steps[3]!.commands.find((c) => c.type === 'callTurn');
    expect(third).toMatchObject({ topic: 'Plan tea', systems: { alice: 'You plan.', carol: 'You review tea.' }, transcript: [{ speaker: 'alice', text: 'a1' }, { speaker: 'bob', text: 'b1' }] });
    const turnEvents = steps.flatMap((s) => s.ledger.events).filter((e) => e.type === 'conversation.turn');
    expect(turnEvents.map((e) => [e.key, e.data?.speaker, e.data?.round, e.data?.text])).toEqual([
      ['node:c:turn:1', 'alice', 1, 'a1'],
      ['node:c:turn:2', 'bob', 2, 'b1'],
      ['node:c:turn:3', 'carol', 3, 'c1'],
      ['node:c:turn:4', 'alice', 4, 'a2'],
    ]);
    expect(state.nodes.c!.status).toBe('succeeded');
    expect(steps.at(-1)!.commands.map((c) => c.type)).toEqual(['evaluate']);
    expect(state.nodeOutputs.c).toEqual({
      transcript: [
        { speaker: 'alice', text: 'a1' },
        { speaker: 'bob', text: 'b1' },
        { speaker: 'carol', text: 'c1' },
        { speaker: 'alice', text: 'a2' },
      ],
      text: 'a2',
      rounds: 4,
      usage: usage(4),
    });
    expect(state.conversations).toEqual({});
  });

  it('terminateOn stops early', () => {
    const { state } = feed(conversationPlan({ terminateOn: 'TERMINATE' }), [evaluatedConversation, turn(1, 'a1'), turn(2, 'fine. TERMINATE')]);
    expect(state.nodes.c!.status).toBe('succeeded');
    expect(state.nodeOutputs.c).toMatchObject({ rounds: 2, text: 'fine. TERMINATE' });
  });

  it('auto: a selectSpeaker call between turns; its answer names who speaks; its usage counts', () => {
    const selected = (round: number, text: string): Happening => ({ type: 'speakerSelected', at: T, nodeId: 'c', round, attempt: 1, answer: { text, usage: usage(1) } });
    const { state, steps } = feed(conversationPlan({ speakerSelection: 'auto', maxRounds: 3 }), [evaluatedConversation, turn(1, 'a1'), selected(2, 'carol'), turn(2, 'c1'), selected(3, 'alice'), turn(3, 'a2')]);
    expect(steps.map((s) => calls(s.commands))).toEqual([[], ['turn:1:alice#1@0'], ['select:2:bob|carol#1'], ['turn:2:carol#1@0'], ['select:3:alice|bob#1'], ['turn:3:alice#1@0'], []]);
    expect(steps.flatMap((s) => s.ledger.events).filter((e) => e.type === 'conversation.speaker_selected').map((e) => [e.data?.round, e.data?.speaker, e.data?.chosenBy])).toEqual([
      [2, 'carol', 'model'],
      [3, 'alice', 'model'],
    ]);
    expect(state.nodeOutputs.c).toMatchObject({ rounds: 3, usage: usage(5) });
  });

  it("a failed turn retries as an agent's does (the node's retry), then the conversation goes on; out of attempts it fails", () => {
    const p = conversationPlan({ retry: { maximumAttempts: 2, initialIntervalSeconds: 2 } });
    const fail = (round: number, attempt: number): Happening => ({ type: 'nodeFailed', at: T, nodeId: 'c', attempt, code: 'AGENT_FAILED', message: 'boom', retryable: true });
    const { steps } = feed(p, [evaluatedConversation, turn(1, 'a1'), fail(2, 1), turn(2, 'b1', 2)]);
    expect(steps.map((s) => calls(s.commands))).toEqual([[], ['turn:1:alice#1@0'], ['turn:2:bob#1@0'], ['turn:2:bob#2@2000'], ['turn:3:carol#1@0']]);
    expect(steps[3]!.ledger.events.map((e) => [e.type, e.key, e.data?.turn])).toEqual([['node.retrying', 'node:c:turn:2:turn:retrying:1', 2]]);
    const failed = feed(p, [evaluatedConversation, fail(1, 1), fail(1, 2)]);
    expect(failed.state.status).toBe('failed');
    expect(failed.state.nodes.c).toMatchObject({ status: 'failed', attempts: 2 });
  });

  it('a replayed or late answer of a turn already spoken changes nothing', () => {
    const { steps } = feed(conversationPlan(), [evaluatedConversation, turn(1, 'a1'), turn(1, 'a1 again')]);
    expect(steps[3]!.commands).toEqual([]);
    expect(steps[3]!.ledger.events).toEqual([]);
  });

  it('the run view progress keeps every turn, so a replay resumes at the next one', () => {
    const { state } = feed(conversationPlan(), [evaluatedConversation, turn(1, 'a1'), turn(2, 'b1')]);
    const progress: ConversationProgress = state.conversations.c!;
    expect(progress).toMatchObject({ round: 3, speaker: 'carol', transcript: [{ speaker: 'alice' }, { speaker: 'bob' }] });
  });
});
