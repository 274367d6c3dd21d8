// Streaming (issue 11 item 6, DESIGN §8): an agent's tokens reach the sockets subscribed to its run as `delta`
// messages through Redis, never as stored events; their concatenation is the stored text. Real SDKs against
// the fake provider (streaming over SSE), real Temporal, the real hub.
import { createProviders } from '../activities/llm';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { openSocket } from './support/ws-client';

let fake: FakeLlmServer;
let stack: TestStack;
let owner: TestSession;
let other: TestSession;

beforeAll(async () => {
  fake = await startFakeLlmServer();
  stack = await startTestStack({
    providers: { openai: { apiKey: 'test-openai-key', baseURL: fake.openaiBaseURL }, anthropic: { apiKey: 'test-anthropic-key', baseURL: fake.anthropicBaseURL } },
  });
  owner = await registerTenant(stack);
  other = await registerTenant(stack);
});

afterAll(async () => {
  await stack?.close();
  await fake?.close();
});

beforeEach(() => fake.reset());

function agentGraph(provider: string, model: string) {
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: {} },
      { id: 'a', type: 'agent', position: { x: 200, y: 0 }, data: { provider, model, prompt: 'Tell me a long story' } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.a.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'a' },
      { id: 'e2', source: 'a', target: 'out' },
    ],
  };
}

const STORY = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ') + '.';

/** A call to the fake provider that only counts: it lets a held agent call go (holdUntilCalls: 2). */
async function releaseHeldCall(): Promise<void> {
  const res = await fetch(`${fake.openaiBaseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test-openai-key' },
    body: JSON.stringify({ model: 'release', messages: [{ role: 'user', content: 'go' }] }),
  });
  expect(res.status).toBe(200);
}

describe.each([
  ['openai', 'stream-openai'],
  ['anthropic', 'stream-anthropic'],
])('an %s-protocol agent', (provider, model) => {
  it("streams deltas to its run's subscribers whose concatenation is the stored text; another tenant gets none; no delta is stored", async () => {
    // Held until the sockets are subscribed, then streamed a word at a time with a pause between chunks.
    fake.script(model, { text: STORY, holdUntilCalls: 2, chunkDelayMs: 3 });
    const workflowId = await createWorkflow(stack, owner, agentGraph(provider, model));
    const socket = await openSocket(stack.wsUrl, owner.token);
    const stranger = await openSocket(stack.wsUrl, other.token);
    try {
      const executionId = await startRun(stack, owner, workflowId);
      socket.send({ type: 'subscribe', executionId, afterSeq: 0 });
      stranger.send({ type: 'subscribe', executionId, afterSeq: 0 });
      await socket.waitFor((m) => m.type === 'subscribed' && m.executionId === executionId);
      await stranger.waitFor((m) => m.type === 'error' && m.code === 'NOT_FOUND' && m.executionId === executionId);
      await fake.waitForCalls(1);
      await releaseHeldCall();

      await socket.waitFor((m) => m.type === 'event' && m.event.type === 'execution.succeeded');
      const done = await waitForExecution(stack, owner, executionId);
      expect(done.status).toBe('succeeded');
      const stored = done.nodes.find((n: any) => n.nodeId === 'a').output.text;
      expect(stored).toBe(STORY);

      const deltas = socket.messages.filter((m) => m.type === 'delta');
      // Coalesced (every 50 ms or 200 characters), yet more than one message for 80 words sent apart.
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.length).toBeLessThan(80);
      for (const d of deltas) expect(d).toEqual({ type: 'delta', executionId, nodeId: 'a', round: 1, attempt: 1, text: expect.any(String) });
      expect(deltas.map((d) => d.text).join('')).toBe(stored);
      // Every delta came before the node's end: the run view never sees text after the whole one.
      const succeededAt = socket.messages.findIndex((m) => m.type === 'event' && m.event.type === 'node.succeeded' && m.event.nodeId === 'a');
      expect(socket.messages.lastIndexOf(deltas[deltas.length - 1])).toBeLessThan(succeededAt);

      expect(stranger.messages.filter((m) => m.type === 'delta' || m.type === 'event')).toEqual([]);

      const events = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
      expect(events.status).toBe(200);
      expect(events.body.events.map((e: any) => e.type)).not.toContain('delta');
      expect(events.body.events.every((e: any) => typeof e.seq === 'number')).toBe(true);
      const nodeSucceeded = events.body.events.find((e: any) => e.type === 'node.succeeded' && e.nodeId === 'a');
      expect(STORY.startsWith(nodeSucceeded.data.textPreview)).toBe(true);
      // The provider was asked to stream.
      expect(fake.callsFor(model)[0]!.body.stream).toBe(true);
      const refused = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: other.token });
      expect(refused.status).toBe(404);
    } finally {
      await socket.close();
      await stranger.close();
    }
  });
});

describe.each([['openai' as const], ['anthropic' as const]])('the %s provider streaming', (provider) => {
  it('assembles the same result as without streaming: text, parallel tool calls, usage, model', async () => {
    const providers = createProviders({ openai: { apiKey: 'k', baseURL: fake.openaiBaseURL }, anthropic: { apiKey: 'k', baseURL: fake.anthropicBaseURL } });
    const calls = [{ id: 'c1', name: 'lookup', arguments: { q: 'tea' } }, { id: 'c2', name: 'lookup', arguments: { q: 'milk' } }];
    const answer = { text: 'Let me look. Both, at once.', toolCalls: calls, usage: { inputTokens: 7, outputTokens: 5 }, answerModel: 'snap-1' };
    fake.script('direct', answer, answer);
    const request = { provider, model: 'direct', prompt: 'hi', tools: [{ name: 'lookup', parameters: { type: 'object' } }] };
    const ctx = { signal: new AbortController().signal, heartbeat: () => undefined };
    const plain = await providers[provider].complete(request, ctx);
    const chunks: string[] = [];
    const streamed = await providers[provider].complete(request, { ...ctx, onDelta: (t) => chunks.push(t) });
    expect(fake.calls.map((c) => c.body.stream ?? false)).toEqual([false, true]);
    expect(streamed).toEqual(plain);
    expect(streamed.toolCalls?.map((c) => c.arguments)).toEqual([{ q: 'tea' }, { q: 'milk' }]);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toBe(answer.text);
  });
});

it('a retried attempt streams its text afresh, told apart by its attempt', async () => {
  const model = 'stream-retry';
  // The first attempt dies after a few words (its deltas went out); the second answers whole.
  fake.script(model, { text: STORY, holdUntilCalls: 2, chunkDelayMs: 3, dropAfterChunks: 12 }, { text: STORY, chunkDelayMs: 3 });
  const workflowId = await createWorkflow(stack, owner, agentGraph('openai', model));
  const socket = await openSocket(stack.wsUrl, owner.token);
  try {
    const executionId = await startRun(stack, owner, workflowId);
    socket.send({ type: 'subscribe', executionId, afterSeq: 0 });
    await socket.waitFor((m) => m.type === 'subscribed' && m.executionId === executionId);
    await fake.waitForCalls(1);
    await releaseHeldCall();
    await socket.waitFor((m) => m.type === 'event' && m.event.type === 'execution.succeeded');
    const done = await waitForExecution(stack, owner, executionId);
    const node = done.nodes.find((n: any) => n.nodeId === 'a');
    expect(node.attempts).toBe(2);
    const deltas = socket.messages.filter((m) => m.type === 'delta');
    const first = deltas.filter((d) => d.attempt === 1).map((d) => d.text).join('');
    const second = deltas.filter((d) => d.attempt === 2).map((d) => d.text).join('');
    expect(first.length).toBeGreaterThan(0);
    expect(STORY.startsWith(first) && first.length < STORY.length).toBe(true);
    expect(second).toBe(node.output.text);
    // Attempt 1's chunks all come before attempt 2's.
    expect(deltas.map((d) => d.attempt)).toEqual([...deltas.map((d) => d.attempt)].sort());
  } finally {
    await socket.close();
  }
});
