// The `conversation` node (DESIGN.md §8, issue 11 item 5), end to end: real Temporal, a worker process, the
// real openai and @anthropic-ai/sdk clients against the fake provider, the real hub. Every turn is one model
// call counted at the fake provider, so the tests can say each turn happened exactly once, also across a
// SIGKILLed worker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, TEST_ENCRYPTION_KEY, type TestStack } from './support/stack';
import { killAllTessera, spawnTessera, stackEnv, writeWorkflowBundle, type TesseraProcess } from './support/processes';
import { waitUntil } from './support/wait-until';
import { openSocket } from './support/ws-client';

jest.setTimeout(240_000);

let stack: TestStack;
let fake: FakeLlmServer;
let owner: TestSession;
let other: TestSession;
let bundleDir: string;
let bundlePath: string;
let worker: TesseraProcess;

function spawnWorker(): TesseraProcess {
  return spawnTessera('worker', {
    ...stackEnv(stack, bundlePath),
    OPENAI_API_KEY: 'test-openai-key',
    OPENAI_BASE_URL: fake.openaiBaseURL,
    ANTHROPIC_API_KEY: 'test-anthropic-key',
    ANTHROPIC_BASE_URL: fake.anthropicBaseURL,
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  });
}

beforeAll(async () => {
  fake = await startFakeLlmServer();
  stack = await startTestStack({ worker: false });
  owner = await registerTenant(stack);
  other = await registerTenant(stack);
  bundleDir = mkdtempSync(path.join(tmpdir(), 'tessera-bundle-'));
  bundlePath = writeWorkflowBundle(stack.workflowBundle, path.join(bundleDir, 'workflow-bundle.js'));
  worker = spawnWorker();
  await worker.ready;
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  await fake?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

beforeEach(() => fake.reset());

type Participant = { name: string; provider: string; model: string; system?: string; credentialId?: string };

const trio = (prefix: string, provider = 'openai'): Participant[] => [
  { name: 'alice', provider, model: `${prefix}-a`, system: 'You plan picnics about {{inputs.topic}}.' },
  { name: 'bob', provider, model: `${prefix}-b` },
  { name: 'carol', provider, model: `${prefix}-c`, system: 'You check the plan.' },
];

function conversationGraph(conversation: Record<string, unknown>) {
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
      { id: 'chat', type: 'conversation', position: { x: 200, y: 0 }, data: { topic: 'Plan a picnic about {{inputs.topic}}', maxRounds: 6, speakerSelection: 'round_robin', ...conversation } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.chat.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'chat' },
      { id: 'e2', source: 'chat', target: 'out' },
    ],
  };
}

async function runToEnd(conversation: Record<string, unknown>) {
  const workflowId = await createWorkflow(stack, owner, conversationGraph(conversation));
  const executionId = await startRun(stack, owner, workflowId, { topic: 'tea' });
  const done = await waitForExecution(stack, owner, executionId, undefined, 120_000);
  return { executionId, done, chat: done.nodes.find((n: any) => n.nodeId === 'chat') };
}

async function events(executionId: string): Promise<any[]> {
  const res = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
  expect(res.status).toBe(200);
  return res.body.events;
}

/** A call's messages as [role, text] (OpenAI: without the system message). */
function messagesOf(call: { body: Record<string, unknown> }): [string, string][] {
  const messages = (call.body.messages as { role: string; content: unknown }[]).filter((m) => m.role !== 'system');
  return messages.map((m) => [m.role, typeof m.content === 'string' ? m.content : JSON.stringify(m.content)]);
}

const SELECTOR = 'You choose who speaks next';

it('three participants, round robin: each speaks in turn with the transcript so far, terminateOn stops early; another tenant gets 404', async () => {
  fake.script('rr-c', { text: 'Sounds good to me. DONE' });
  const { executionId, done, chat } = await runToEnd({ participants: trio('rr'), terminateOn: 'DONE' });

  expect(done.status).toBe('succeeded');
  const topic = 'Plan a picnic about tea';
  const a1 = `fake:rr-a:${topic}`;
  const b1 = `fake:rr-b:${topic}\n\nalice: ${a1}`;
  expect(chat.output).toEqual({
    transcript: [
      { speaker: 'alice', text: a1 },
      { speaker: 'bob', text: b1 },
      { speaker: 'carol', text: 'Sounds good to me. DONE' },
    ],
    text: 'Sounds good to me. DONE',
    rounds: 3,
    usage: expect.objectContaining({ totalTokens: expect.any(Number) }),
  });
  expect(done.outputs.out).toBe('Sounds good to me. DONE');
  // One call per turn, in order, each with what came before (the others' turns as user messages, names first).
  expect(fake.calls.map((c) => c.model)).toEqual(['rr-a', 'rr-b', 'rr-c']);
  expect(messagesOf(fake.calls[0]!)).toEqual([['user', topic]]);
  expect(messagesOf(fake.calls[2]!)).toEqual([['user', `${topic}\n\nalice: ${a1}\n\nbob: ${b1}`]]);
  expect(fake.calls[0]!.system).toContain('You are alice');
  expect(fake.calls[0]!.system).toContain('You plan picnics about tea.');
  expect(fake.calls[1]!.system).toContain('You are bob');
  const usage = (await events(executionId)).filter((e) => e.type === 'conversation.turn');
  expect(usage.map((e) => [e.data.round, e.data.speaker, e.data.text])).toEqual([
    [1, 'alice', a1],
    [2, 'bob', b1],
    [3, 'carol', 'Sounds good to me. DONE'],
  ]);
  const summed = usage.reduce((sum, e) => sum + e.data.usage.totalTokens, 0);
  expect(chat.output.usage.totalTokens).toBe(summed);

  for (const path of [`/api/v1/executions/${executionId}`, `/api/v1/executions/${executionId}/events`]) {
    const refused = await stack.request('GET', path, { token: other.token });
    expect(refused.status).toBe(404);
  }
});

it('auto: the first participant’s model chooses each next speaker among the others', async () => {
  fake.script('auto-a', { systemIncludes: SELECTOR, text: 'carol' }, { systemIncludes: SELECTOR, text: 'I would say alice.' });
  const { executionId, done, chat } = await runToEnd({ participants: trio('auto'), speakerSelection: 'auto', maxRounds: 3 });

  expect(done.status).toBe('succeeded');
  expect(chat.output.transcript.map((t: any) => t.speaker)).toEqual(['alice', 'carol', 'alice']);
  expect(chat.output.rounds).toBe(3);
  const selections = fake.calls.filter((c) => c.system?.includes(SELECTOR));
  expect(selections.map((c) => c.model)).toEqual(['auto-a', 'auto-a']);
  // Asked among everyone but the last speaker; nothing of the selection streams.
  expect(selections[0]!.system).toContain('one of bob, carol');
  expect(selections[1]!.system).toContain('one of alice, bob');
  expect(selections.map((c) => c.body.stream ?? false)).toEqual([false, false]);
  expect(fake.calls.map((c) => (c.system?.includes(SELECTOR) ? 'select' : c.model))).toEqual(['auto-a', 'select', 'auto-c', 'select', 'auto-a']);
  const chosen = (await events(executionId)).filter((e) => e.type === 'conversation.speaker_selected');
  expect(chosen.map((e) => [e.data.round, e.data.speaker, e.data.chosenBy])).toEqual([
    [2, 'carol', 'model'],
    [3, 'alice', 'model'],
  ]);
  // The selections' tokens are paid too: the output's usage is more than the turns'.
  const turns = (await events(executionId)).filter((e) => e.type === 'conversation.turn').reduce((sum, e) => sum + e.data.usage.totalTokens, 0);
  expect(chat.output.usage.totalTokens).toBeGreaterThan(turns);
});

it('SIGKILL of the worker in the middle of turn 3: the run succeeds and each turn was answered exactly once', async () => {
  // Turn 3's first call is never answered: the worker dies under it.
  fake.script('kill-c', { delayMs: 60 * 60_000 });
  const workflowId = await createWorkflow(stack, owner, conversationGraph({ participants: trio('kill'), maxRounds: 5 }));
  const executionId = await startRun(stack, owner, workflowId, { topic: 'tea' });

  await waitUntil('turn 3 is in flight at the provider', () => fake.callsFor('kill-c').length === 1, { timeoutMs: 90_000 });
  await worker.kill('SIGKILL');
  worker = spawnWorker();
  await worker.ready;

  const done = await waitForExecution(stack, owner, executionId, undefined, 120_000);
  expect(done.status).toBe('succeeded');
  const chat = done.nodes.find((n: any) => n.nodeId === 'chat');
  expect(chat.output.transcript.map((t: any) => t.speaker)).toEqual(['alice', 'bob', 'carol', 'alice', 'bob']);
  const answered = fake.calls.filter((c) => !c.aborted && c.status === 200);
  console.log(
    `conversation kill test: calls made ${fake.calls.length}, answered ${answered.length}, cut off ${fake.calls.filter((c) => c.aborted).length}; answered per model ${JSON.stringify(Object.fromEntries(['kill-a', 'kill-b', 'kill-c'].map((m) => [m, answered.filter((c) => c.model === m).length])))}`,
  );
  // Turns 1 and 2 completed once each and were not repeated by the new worker; turn 3 was cut off and made again.
  expect(fake.calls.map((c) => [c.model, c.aborted])).toEqual([
    ['kill-a', false],
    ['kill-b', false],
    ['kill-c', true],
    ['kill-c', false],
    ['kill-a', false],
    ['kill-b', false],
  ]);
  expect(answered).toHaveLength(5);
  const turns = (await events(executionId)).filter((e) => e.type === 'conversation.turn');
  expect(turns.map((e) => e.data.round)).toEqual([1, 2, 3, 4, 5]);
  expect(chat.attempts).toBe(1);
});

it('the Anthropic protocol: a participant’s credential is its key, roles alternate, its own turns are the assistant’s', async () => {
  const cred = await stack.request('POST', '/api/v1/credentials', { token: owner.token, body: { provider: 'anthropic', name: 'Bob’s key', secret: 'bob-anthropic-key' } });
  expect(cred.status).toBe(201);
  const participants = trio('anth', 'anthropic');
  participants[1] = { ...participants[1]!, credentialId: cred.body.id };
  const { done, chat } = await runToEnd({ participants, maxRounds: 4 });

  expect(done.status).toBe('succeeded');
  expect(fake.calls.map((c) => [c.api, c.model, c.apiKey])).toEqual([
    ['anthropic', 'anth-a', 'test-anthropic-key'],
    ['anthropic', 'anth-b', 'bob-anthropic-key'],
    ['anthropic', 'anth-c', 'test-anthropic-key'],
    ['anthropic', 'anth-a', 'test-anthropic-key'],
  ]);
  const [a1, b1, c1] = chat.output.transcript.map((t: any) => t.text);
  // Alice's second turn: her first as the assistant's, the others' after it as one user message.
  expect(messagesOf(fake.calls[3]!)).toEqual([
    ['user', 'Plan a picnic about tea'],
    ['assistant', a1],
    ['user', `bob: ${b1}\n\ncarol: ${c1}`],
  ]);
  expect(fake.calls[3]!.system).toContain('You are alice');
  expect(chat.output.rounds).toBe(4);
  expect(chat.output.text).toBe(`fake:anth-a:bob: ${b1}\n\ncarol: ${c1}`);
});

const SPEECH = (who: string) => Array.from({ length: 40 }, (_, i) => `${who}${i}`).join(' ') + '.';

it('a WebSocket client receives each turn’s deltas (round = the turn) whose concatenation is the stored turn text', async () => {
  // Held until the socket is subscribed, then streamed a word at a time.
  fake.script('ws-a', { text: SPEECH('alice'), holdUntilCalls: 2, chunkDelayMs: 2 });
  fake.script('ws-b', { text: SPEECH('bob'), chunkDelayMs: 2 });
  const workflowId = await createWorkflow(stack, owner, conversationGraph({ participants: trio('ws').slice(0, 2), maxRounds: 2 }));
  const socket = await openSocket(stack.wsUrl, owner.token);
  try {
    const executionId = await startRun(stack, owner, workflowId, { topic: 'tea' });
    socket.send({ type: 'subscribe', executionId, afterSeq: 0 });
    await socket.waitFor((m) => m.type === 'subscribed' && m.executionId === executionId);
    await fake.waitForCalls(1);
    // A call that only counts, so the held one goes.
    const res = await fetch(`${fake.openaiBaseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-openai-key' },
      body: JSON.stringify({ model: 'release', messages: [{ role: 'user', content: 'go' }] }),
    });
    expect(res.status).toBe(200);
    await socket.waitFor((m) => m.type === 'event' && m.event.type === 'execution.succeeded');
    const done = await waitForExecution(stack, owner, executionId);
    const transcript = done.nodes.find((n: any) => n.nodeId === 'chat').output.transcript;
    const deltas = socket.messages.filter((m) => m.type === 'delta');
    for (const d of deltas) expect(d).toEqual({ type: 'delta', executionId, nodeId: 'chat', round: expect.any(Number), attempt: 1, text: expect.any(String) });
    expect(deltas.filter((d) => d.round === 1).length).toBeGreaterThan(1);
    expect(deltas.filter((d) => d.round === 1).map((d) => d.text).join('')).toBe(transcript[0].text);
    expect(deltas.filter((d) => d.round === 2).map((d) => d.text).join('')).toBe(transcript[1].text);
    expect(transcript.map((t: any) => t.text)).toEqual([SPEECH('alice'), SPEECH('bob')]);
    // Turn 1's deltas all came before turn 1's event, which the view shows once it is stored.
    const turnOne = socket.messages.findIndex((m) => m.type === 'event' && m.event.type === 'conversation.turn' && m.event.data.round === 1);
    expect(socket.messages.lastIndexOf(deltas.filter((d) => d.round === 1).at(-1))).toBeLessThan(turnOne);
    expect((await events(executionId)).map((e) => e.type)).not.toContain('delta');
  } finally {
    await socket.close();
  }
});
