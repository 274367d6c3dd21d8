// The LLM providers through the real `openai` and `@anthropic-ai/sdk` clients against the fake provider server:
// what a turn returns, which failures Temporal may retry, and that cancellation really stops the HTTP call.
import { createServer } from 'node:net';
import type { ProviderName } from '../core/graph';
import {
  createAnthropicProvider,
  createEchoProvider,
  createOpenAiProvider,
  createProviders,
  isAbortError,
  ProviderError,
  type AgentTurnRequest,
  type LlmProvider,
  type TurnContext,
} from '../activities/llm';
import { startFakeLlmServer, type FakeLlmCall, type FakeLlmServer } from './fake-llm/server';
import { waitUntil } from './support/wait-until';

/** A delay no test waits out: only an abort or a timeout ends a call or turn that has it. */
const NO_ANSWER_MS = 60 * 60_000;

interface RecordingContext extends TurnContext {
  heartbeatTimes: number[];
}

function turnContext(signal: AbortSignal = new AbortController().signal): RecordingContext {
  const heartbeatTimes: number[] = [];
  return { signal, heartbeatTimes, heartbeat: () => heartbeatTimes.push(Date.now()) };
}

async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ProviderError) return err;
    throw new Error(`expected a ProviderError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected the turn to fail, but it succeeded');
}

async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

let fake: FakeLlmServer;

beforeAll(async () => {
  fake = await startFakeLlmServer();
});

afterEach(() => fake.reset());

afterAll(async () => {
  await fake.close();
});

interface ProviderCase {
  name: Exclude<ProviderName, 'echo'>;
  model: string;
  envName: string;
  make: (config: { apiKey?: string; baseURL?: string }) => LlmProvider;
  baseURL: () => string;
}

const cases: ProviderCase[] = [
  { name: 'openai', model: 'gpt-4o-mini', envName: 'OPENAI_API_KEY', make: createOpenAiProvider, baseURL: () => fake.openaiBaseURL },
  {
    name: 'anthropic',
    model: 'claude-sonnet-4-6',
    envName: 'ANTHROPIC_API_KEY',
    make: createAnthropicProvider,
    baseURL: () => fake.anthropicBaseURL,
  },
];

describe.each(cases)('$name provider', ({ name, model, envName, make, baseURL }) => {
  const provider = (): LlmProvider => make({ apiKey: 'test-config-key', baseURL: baseURL() });
  const request = (overrides: Partial<AgentTurnRequest> = {}): AgentTurnRequest => ({
    provider: name,
    model,
    system: 'You are terse.',
    prompt: 'Hello there',
    ...overrides,
  });
  const onlyCall = (): FakeLlmCall => {
    expect(fake.calls).toHaveLength(1);
    return fake.calls[0] as FakeLlmCall;
  };

  it('returns the model text, token usage and model, sending system and prompt once', async () => {
    const result = await provider().complete(request(), turnContext());

    expect(result).toEqual({
      text: `fake:${model}:Hello there`,
      // The fake counts words: 3 of system + 2 of prompt in, 2 out.
      usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 },
      model,
      provider: name,
    });
    const call = onlyCall();
    expect(call).toMatchObject({ api: name, model, prompt: 'Hello there', system: 'You are terse.', apiKey: 'test-config-key', status: 200 });
  });

  it('reports the usage and the model snapshot the provider answered with', async () => {
    fake.script(model, { text: 'Short answer.', answerModel: `${model}-2025-01-01`, usage: { inputTokens: 120, outputTokens: 30 } });

    const result = await provider().complete(request(), turnContext());

    expect(result.text).toBe('Short answer.');
    expect(result.model).toBe(`${model}-2025-01-01`);
    expect(result.usage).toEqual({ inputTokens: 120, outputTokens: 30, totalTokens: 150 });
  });

  it('sends the credential key of the request instead of the configured one', async () => {
    await provider().complete(request({ apiKey: 'tenant-credential-key' }), turnContext());

    expect(onlyCall().apiKey).toBe('tenant-credential-key');
  });

  it('passes temperature and max tokens through', async () => {
    await provider().complete(request({ temperature: 0.2, maxTokens: 77 }), turnContext());

    const body = onlyCall().body;
    expect(body.temperature).toBe(0.2);
    // A compatible server (any baseURL) gets OpenAI's older `max_tokens`, which they all understand.
    expect(body.max_tokens).toBe(77);
  });

  it('marks a 429 rate limit retryable and keeps the Retry-After delay', async () => {
    fake.script(model, { status: 429, retryAfterSeconds: 2 });

    const error = await failureOf(provider().complete(request(), turnContext()));

    expect(error).toMatchObject({ provider: name, status: 429, retryable: true, retryAfterMs: 2000 });
    expect(isAbortError(error)).toBe(false);
    expect(fake.calls).toHaveLength(1);
  });

  it('marks a 500 server error retryable, after exactly one HTTP attempt', async () => {
    fake.script(model, { status: 500 });

    const error = await failureOf(provider().complete(request(), turnContext()));

    expect(error).toMatchObject({ provider: name, status: 500, retryable: true });
    expect(fake.calls).toHaveLength(1);
  });

  it('marks a 401 non-retryable and keeps the provider message verbatim', async () => {
    fake.script(model, { status: 401, message: 'Incorrect API key provided' });

    const error = await failureOf(provider().complete(request(), turnContext()));

    expect(error).toMatchObject({ provider: name, status: 401, retryable: false });
    expect(error.message).toContain('Incorrect API key provided');
  });

  it('refuses a rejected key as non-retryable', async () => {
    const error = await failureOf(provider().complete(request({ apiKey: 'bad-key' }), turnContext()));

    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(error.message).not.toContain('bad-key');
  });

  it('never repeats the API key in an error message, even when the provider does', async () => {
    fake.script(model, { status: 401, message: 'Incorrect API key provided: sk-live-secret-1234.' });

    const error = await failureOf(provider().complete(request({ apiKey: 'sk-live-secret-1234' }), turnContext()));

    expect(error.message).toContain('Incorrect API key provided');
    expect(error.message).not.toContain('sk-live-secret-1234');
  });

  it('marks a 400 bad request non-retryable', async () => {
    fake.script(model, { status: 400, message: 'temperature: must be at most 1' });

    const error = await failureOf(provider().complete(request(), turnContext()));

    expect(error).toMatchObject({ status: 400, retryable: false });
    expect(error.message).toContain('temperature: must be at most 1');
  });

  it('fails without any HTTP call when no API key is configured or given, naming the variable', async () => {
    const error = await failureOf(make({ baseURL: baseURL() }).complete(request(), turnContext()));

    expect(error).toMatchObject({ retryable: false, code: 'missing_api_key' });
    expect(error.message).toContain(envName);
    expect(error.message).toMatch(/credential/i);
    expect(fake.calls).toHaveLength(0);
  });

  it('stops a call still waiting for its answer when the signal aborts, and the server sees the hang-up', async () => {
    // No answer comes for an hour: the abort is what ends the call, however slowly it got under way.
    fake.script(model, { delayMs: NO_ANSWER_MS });
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    const turn = failureOf(provider().complete(request(), turnContext(controller.signal)));
    await fake.waitForCalls(1);
    controller.abort(reason);

    const error = await turn;

    expect(isAbortError(error)).toBe(true);
    expect(error.retryable).toBe(false);
    expect(error.cause).toBe(reason);
    await waitUntil('the server sees the hang-up', () => fake.calls[0]?.aborted);
    expect(onlyCall().status).toBeUndefined();
  });

  it('heartbeats while it waits for a slow answer', async () => {
    fake.script(model, { delayMs: NO_ANSWER_MS });
    const controller = new AbortController();
    const ctx = turnContext(controller.signal);
    const turn = failureOf(provider().complete(request(), ctx));

    // One at the start, then about one a second, all while the answer is still outstanding.
    await waitUntil('three heartbeats during the call', () => ctx.heartbeatTimes.length >= 3);
    expect(fake.calls[0]?.status).toBeUndefined();
    controller.abort(new Error('the test has seen enough'));
    expect(isAbortError(await turn)).toBe(true);
  });

  it('marks a request that exceeds timeoutMs retryable', async () => {
    fake.script(model, { delayMs: NO_ANSWER_MS });

    const error = await failureOf(provider().complete(request({ timeoutMs: 300 }), turnContext()));

    expect(error).toMatchObject({ retryable: true, code: 'timeout' });
    expect(isAbortError(error)).toBe(false);
    await waitUntil('the server sees the hang-up', () => fake.calls[0]?.aborted);
  });

  it('marks a refused connection retryable', async () => {
    const unreachable = name === 'openai' ? `${await closedPortUrl()}/v1` : await closedPortUrl();

    const error = await failureOf(make({ apiKey: 'k-1234', baseURL: unreachable }).complete(request(), turnContext()));

    expect(error).toMatchObject({ retryable: true, code: 'connection_error' });
  });

  it('marks a dropped connection retryable', async () => {
    fake.script(model, { dropConnection: true });

    const error = await failureOf(provider().complete(request(), turnContext()));

    expect(error).toMatchObject({ retryable: true, code: 'connection_error' });
    expect(onlyCall().aborted).toBe(false);
  });

  it('parses a JSON answer when the node asks for JSON', async () => {
    const result = await provider().complete(request({ responseFormat: 'json', prompt: 'List facts' }), turnContext());

    expect(result.json).toEqual({ model, prompt: 'List facts' });
    expect(JSON.parse(result.text)).toEqual(result.json);
    // The instruction is what makes OpenAI's JSON mode accept the request and Claude answer bare JSON.
    expect(onlyCall().system).toMatch(/JSON/);
  });

  it('reads JSON wrapped in a Markdown fence', async () => {
    fake.script(model, { text: '```json\n{"ok": true}\n```' });

    const result = await provider().complete(request({ responseFormat: 'json' }), turnContext());

    expect(result.json).toEqual({ ok: true });
  });

  it('marks an answer that is not JSON retryable, since the next sample may be', async () => {
    fake.script(model, { text: 'Sure! Here are the facts.' });

    const error = await failureOf(provider().complete(request({ responseFormat: 'json' }), turnContext()));

    expect(error).toMatchObject({ retryable: true, code: 'invalid_json' });
  });
});

describe('openai provider specifics', () => {
  it('marks an exhausted quota non-retryable although it comes as a 429', async () => {
    fake.script('gpt-4o-mini', { status: 429, code: 'insufficient_quota', message: 'You exceeded your current quota.' });
    const provider = createOpenAiProvider({ apiKey: 'k-1234', baseURL: fake.openaiBaseURL });

    const error = await failureOf(provider.complete({ provider: 'openai', model: 'gpt-4o-mini', prompt: 'hi' }, turnContext()));

    expect(error).toMatchObject({ status: 429, retryable: false, code: 'insufficient_quota' });
  });

  it('sends a 404 for an unknown model as non-retryable with the provider message', async () => {
    fake.script('gpt-nope', { status: 404 });
    const provider = createOpenAiProvider({ apiKey: 'k-1234', baseURL: fake.openaiBaseURL });

    const error = await failureOf(provider.complete({ provider: 'openai', model: 'gpt-nope', prompt: 'hi' }, turnContext()));

    expect(error).toMatchObject({ status: 404, retryable: false });
    expect(error.message).toContain('The model `gpt-nope` does not exist');
  });
});

describe('anthropic provider specifics', () => {
  it('asks for 1024 max tokens unless the node says otherwise', async () => {
    const provider = createAnthropicProvider({ apiKey: 'k-1234', baseURL: fake.anthropicBaseURL });

    await provider.complete({ provider: 'anthropic', model: 'claude-haiku-4-5', prompt: 'hi' }, turnContext());

    expect(fake.calls[0]?.body.max_tokens).toBe(1024);
  });

  it('marks a 529 overload retryable', async () => {
    fake.script('claude-haiku-4-5', { status: 529 });
    const provider = createAnthropicProvider({ apiKey: 'k-1234', baseURL: fake.anthropicBaseURL });

    const error = await failureOf(provider.complete({ provider: 'anthropic', model: 'claude-haiku-4-5', prompt: 'hi' }, turnContext()));

    expect(error).toMatchObject({ status: 529, retryable: true, code: 'overloaded_error' });
    expect(error.message).toContain('Overloaded');
  });
});

describe('echo provider', () => {
  const echo = createEchoProvider();
  const request = (overrides: Partial<AgentTurnRequest> = {}): AgentTurnRequest => ({
    provider: 'echo',
    model: 'echo-1',
    system: 'You are a writer.',
    prompt: 'Write about  durable workflows',
    ...overrides,
  });

  it('answers with exactly the prompt, without the system prompt, counting words as tokens', async () => {
    const result = await echo.complete(request(), turnContext());

    expect(result).toEqual({
      text: 'Write about  durable workflows',
      usage: { inputTokens: 8, outputTokens: 4, totalTokens: 12 },
      model: 'echo-1',
      provider: 'echo',
    });
  });

  it('waits delayMs, heartbeating at least every 500 ms', async () => {
    // On Jest's clock: the cadence under test is the provider's, and a busy machine would only make real timers late.
    jest.useFakeTimers();
    try {
      const ctx = turnContext();
      const started = Date.now();
      let finished = false;
      const turn = echo.complete(request({ delayMs: 1200 }), ctx).then(() => (finished = true));

      await jest.advanceTimersByTimeAsync(1199);
      expect(finished).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await turn;

      expect(ctx.heartbeatTimes.length).toBeGreaterThanOrEqual(3);
      const beats = [started, ...ctx.heartbeatTimes, Date.now()];
      const gaps = beats.slice(1).map((at, i) => at - (beats[i] as number));
      expect(Math.max(...gaps)).toBeLessThanOrEqual(500);
    } finally {
      jest.useRealTimers();
    }
  });

  it('stops waiting when the signal aborts, long before delayMs', async () => {
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    const turn = failureOf(echo.complete(request({ delayMs: NO_ANSWER_MS }), turnContext(controller.signal)));
    controller.abort(reason);

    const error = await turn;

    expect(isAbortError(error)).toBe(true);
    expect(error).toMatchObject({ provider: 'echo', retryable: false });
    expect(error.cause).toBe(reason);
  });

  it('refuses to start when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();

    const error = await failureOf(echo.complete(request(), turnContext(controller.signal)));

    expect(isAbortError(error)).toBe(true);
  });

  it('parses a JSON prompt when asked for JSON', async () => {
    const result = await echo.complete(request({ prompt: '{"title": "Durable", "n": 2}', responseFormat: 'json' }), turnContext());

    expect(result.json).toEqual({ title: 'Durable', n: 2 });
  });

  it('fails for good when asked for JSON and the prompt is not JSON', async () => {
    const error = await failureOf(echo.complete(request({ responseFormat: 'json' }), turnContext()));

    expect(error).toMatchObject({ provider: 'echo', retryable: false, code: 'invalid_json' });
  });
});

describe('createProviders', () => {
  it('builds every provider of the canvas schema from one configuration', async () => {
    const providers = createProviders({
      openai: { apiKey: 'k-openai', baseURL: fake.openaiBaseURL },
      anthropic: { apiKey: 'k-anthropic', baseURL: fake.anthropicBaseURL },
    });

    const echoed = await providers.echo.complete({ provider: 'echo', model: 'echo-1', prompt: 'ping' }, turnContext());
    const fromOpenAi = await providers.openai.complete({ provider: 'openai', model: 'gpt-4o-mini', prompt: 'ping' }, turnContext());
    const fromClaude = await providers.anthropic.complete({ provider: 'anthropic', model: 'claude-haiku-4-5', prompt: 'ping' }, turnContext());

    expect([echoed.text, fromOpenAi.text, fromClaude.text]).toEqual(['ping', 'fake:gpt-4o-mini:ping', 'fake:claude-haiku-4-5:ping']);
    expect(fake.calls.map((c) => [c.api, c.apiKey])).toEqual([
      ['openai', 'k-openai'],
      ['anthropic', 'k-anthropic'],
    ]);
  });
});
