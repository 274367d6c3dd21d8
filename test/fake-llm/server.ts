// A local stand-in for OpenAI's Chat Completions and Anthropic's Messages HTTP APIs, faithful enough for the
// real `openai` and `@anthropic-ai/sdk` clients, that records every call and answers what a test scripts.
//
// Point the clients at it like this (each SDK appends a different path to its base URL):
//   openai:            new OpenAI({ baseURL: server.openaiBaseURL })        // `${url}/v1` → POST /v1/chat/completions
//   @anthropic-ai/sdk: new Anthropic({ baseURL: server.anthropicBaseURL })  // `${url}`    → POST /v1/messages
// A process that cannot share memory with the test (a worker, the dev stack) scripts and reads it over HTTP:
//   POST /__fake/script {model, behaviours: [...]}, GET /__fake/calls, POST /__fake/reset.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeLlmApi = 'openai' | 'anthropic';

/** What the server does for one call. Fields combine: `{delayMs: 3000, status: 503}` waits, then fails. */
export interface FakeLlmBehaviour {
  /** Wait this long before answering; a client that hangs up meanwhile is recorded as `aborted`. */
  delayMs?: number;
  /**
   * Answer only once this many calls (to any model, since the last reset) have arrived. Calls that hold for
   * each other prove they were in flight at the same time, however slowly each one started.
   */
  holdUntilCalls?: number;
  /** Answer this error status (>= 400) with the API's own error body. */
  status?: number;
  /** The error message (a realistic default per status otherwise). */
  message?: string;
  /** The error's `type` (OpenAI `error.type`, Anthropic `error.type`); a realistic default per status otherwise. */
  errorType?: string;
  /** OpenAI `error.code` (e.g. 'insufficient_quota'); Anthropic `error.details.error_code`. */
  code?: string;
  /** Sent as the Retry-After header of an error. */
  retryAfterSeconds?: number;
  /** The answer's text (default `fake:<model>:<last user message>`). */
  text?: string;
  /** The model name to report in the answer (a provider may answer with a dated snapshot). */
  answerModel?: string;
  usage?: { inputTokens: number; outputTokens: number };
  /** Destroy the connection without answering, as a crashed proxy would. */
  dropConnection?: boolean;
  /**
   * Answer by asking for these tools, all in one answer (parallel calls) through the API's native tool calling
   * (OpenAI `tool_calls`, Anthropic `tool_use` blocks). `arguments` is sent as given (a string as is, for
   * OpenAI: a test can send arguments that are not JSON). Ids default to unique ones.
   */
  toolCalls?: { id?: string; name: string; arguments: unknown }[];
  /** A streamed answer (`stream: true`): wait this long between its chunks (default 0). */
  chunkDelayMs?: number;
  /** A streamed answer: destroy the connection after this many chunks, as a provider dying mid-answer would. */
  dropAfterChunks?: number;
  /**
   * Only a call whose system prompt contains this takes the behaviour; other calls to the model pass it by (and
   * take the first behaviour without a condition). A conversation's speaker selection is told apart this way.
   */
  systemIncludes?: string;
}

export interface FakeLlmCall {
  /** 1-based order of arrival over the server's life, so a test can tell calls apart after reset(). */
  seq: number;
  api: FakeLlmApi;
  model: string;
  /** Text of the last user message. */
  prompt: string;
  system?: string;
  body: Record<string, unknown>;
  /** Request headers without Authorization and x-api-key. */
  headers: Record<string, string>;
  /** The key the client sent (tests use fake keys; this lets them check which credential was used). */
  apiKey?: string;
  /** The scripted behaviour this call consumed, if any. */
  behaviour?: FakeLlmBehaviour;
  /** HTTP status answered; undefined while the answer is pending, or when the connection closed first. */
  status?: number;
  /** The client closed the connection before the answer was sent (a cancelled or crashed attempt). */
  aborted: boolean;
  /** Names of the tools the request offered. */
  tools: string[];
  /** The tool results the request ends with (OpenAI `tool` messages, Anthropic `tool_result` blocks), in order. */
  toolResults: { id: string; content: string; isError: boolean }[];
}

export interface FakeLlmServer {
  /** http://127.0.0.1:<port>, without /v1. */
  readonly url: string;
  /** For the openai client: `${url}/v1`. */
  readonly openaiBaseURL: string;
  /** For the @anthropic-ai/sdk client: `url` itself. */
  readonly anthropicBaseURL: string;
  /**
   * Every request to either API endpoint, in arrival order, including ones refused for auth or validation.
   * A request counts once its body has arrived; each HTTP request is exactly one call (the providers never retry).
   */
  readonly calls: readonly FakeLlmCall[];
  /** Queue behaviours for the next calls naming `model` ('*' matches any model without a queue of its own). */
  script(model: string, ...behaviours: FakeLlmBehaviour[]): void;
  callsFor(model: string): FakeLlmCall[];
  /** Resolves once at least `count` calls have arrived (the deadline, a minute by default, is for when none will). */
  waitForCalls(count: number, timeoutMs?: number): Promise<void>;
  /** Forget calls and scripts (pending answers still complete). */
  reset(): void;
  close(): Promise<void>;
}

/** The key the server rejects with 401, as a provider would an invalid or revoked one. */
export const FAKE_LLM_BAD_KEY = 'bad-key';

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export async function startFakeLlmServer(options: { port?: number } = {}): Promise<FakeLlmServer> {
  const calls: FakeLlmCall[] = [];
  const scripts = new Map<string, FakeLlmBehaviour[]>();
  const waiters = new Set<() => void>();
  let seq = 0;

  const takeBehaviour = (model: string, system: string | undefined): FakeLlmBehaviour | undefined => {
    const queue = scripts.get(model)?.length ? scripts.get(model) : scripts.get('*');
    const index = queue?.findIndex((b) => b.systemIncludes === undefined || (system ?? '').includes(b.systemIncludes)) ?? -1;
    return index < 0 ? undefined : queue!.splice(index, 1)[0];
  };

  const record = (call: FakeLlmCall): void => {
    calls.push(call);
    for (const wake of waiters) wake();
  };

  const server: Server = createServer((req, res) => {
    readBody(req)
      .then((raw) => route(req, res, raw))
      .catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) send(res, { status: 500, body: { error: { message: String(err) } } });
      });
  });

  function route(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/v1/chat/completions') return handleApi('openai', req, res, raw);
    if (req.method === 'POST' && path === '/v1/messages') return handleApi('anthropic', req, res, raw);
    if (path?.startsWith('/__fake/')) return handleControl(req, res, path, raw);
    send(res, {
      status: 404,
      body: { error: { message: `Unknown request URL: ${req.method} ${path}.`, type: 'invalid_request_error', code: 'unknown_url' } },
    });
  }

  function handleControl(req: IncomingMessage, res: ServerResponse, path: string, raw: string): void {
    if (req.method === 'GET' && path === '/__fake/calls') return send(res, { status: 200, body: { calls } });
    if (req.method === 'POST' && path === '/__fake/reset') {
      reset();
      return send(res, { status: 200, body: { ok: true } });
    }
    if (req.method === 'POST' && path === '/__fake/script') {
      const parsed = parseJson(raw) as { model?: unknown; behaviours?: unknown } | undefined;
      if (typeof parsed?.model !== 'string' || !Array.isArray(parsed.behaviours)) {
        return send(res, { status: 400, body: { error: { message: 'expected {model: string, behaviours: []}' } } });
      }
      script(parsed.model, ...(parsed.behaviours as FakeLlmBehaviour[]));
      return send(res, { status: 200, body: { ok: true } });
    }
    send(res, { status: 404, body: { error: { message: `no control route ${req.method} ${path}` } } });
  }

  function handleApi(api: FakeLlmApi, req: IncomingMessage, res: ServerResponse, raw: string): void {
    const body = parseJson(raw);
    const request = isRecord(body) ? body : {};
    const model = typeof request.model === 'string' ? request.model : '';
    // @anthropic-ai/sdk 1.x sends its key as a Bearer token; older clients and curl examples use x-api-key.
    const apiKey = api === 'openai' ? bearerToken(req.headers.authorization) : (header(req, 'x-api-key') ?? bearerToken(req.headers.authorization));
    const { prompt, system } = api === 'openai' ? openAiPrompt(request) : anthropicPrompt(request);
    const call: FakeLlmCall = {
      seq: ++seq,
      api,
      model,
      prompt,
      ...(system !== undefined ? { system } : {}),
      body: request,
      headers: publicHeaders(req),
      ...(apiKey !== undefined ? { apiKey } : {}),
      aborted: false,
      tools: offeredTools(api, request),
      toolResults: trailingToolResults(api, request),
    };
    record(call);

    const refusal = api === 'openai' ? checkOpenAiRequest(body, apiKey) : checkAnthropicRequest(req, body, apiKey);
    if (refusal) return answer(res, call, refusal);

    const behaviour = takeBehaviour(model, system);
    if (behaviour) call.behaviour = behaviour;
    let timer: NodeJS.Timeout | undefined;
    let hold: (() => void) | undefined;
    // A client hanging up before the answer is how a cancelled or crashed attempt looks from the provider's side.
    res.on('close', () => {
      clearTimeout(timer);
      if (hold) waiters.delete(hold);
      if (call.status === undefined && !behaviour?.dropConnection) call.aborted = true;
    });
    const respond = (): void => {
      if (behaviour?.dropConnection) {
        res.destroy();
        return;
      }
      const status = behaviour?.status;
      if (request.stream === true && !(status !== undefined && status >= 400)) {
        const reply = successReply(api, request, model, prompt, system, behaviour);
        call.status = reply.status;
        return streamReply(res, api, reply, request, behaviour?.chunkDelayMs ?? 0, behaviour?.dropAfterChunks);
      }
      answer(
        res,
        call,
        behaviour && status !== undefined && status >= 400
          ? errorReply(api, status, model, behaviour)
          : successReply(api, request, model, prompt, system, behaviour),
      );
    };
    const delayMs = behaviour?.delayMs ?? 0;
    const go = (): void => {
      if (delayMs > 0) timer = setTimeout(respond, delayMs);
      else respond();
    };
    const holdUntil = behaviour?.holdUntilCalls;
    if (holdUntil === undefined) return go();
    const release = (): void => {
      if (calls.length < holdUntil) return;
      waiters.delete(release);
      hold = undefined;
      go();
    };
    hold = release;
    waiters.add(release);
    release();
  }

  function answer(res: ServerResponse, call: FakeLlmCall, reply: Reply): void {
    if (res.destroyed || res.writableEnded) return;
    call.status = reply.status;
    send(res, reply);
  }

  function script(model: string, ...behaviours: FakeLlmBehaviour[]): void {
    const queue = scripts.get(model) ?? [];
    queue.push(...behaviours);
    scripts.set(model, queue);
  }

  function reset(): void {
    calls.length = 0;
    scripts.clear();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    openaiBaseURL: `${url}/v1`,
    anthropicBaseURL: url,
    calls,
    script,
    reset,
    callsFor: (model) => calls.filter((c) => c.model === model),
    waitForCalls(count, timeoutMs = 60_000) {
      if (calls.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          if (calls.length < count) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`fake LLM server: ${calls.length} calls after ${timeoutMs} ms, expected ${count}`));
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// ---- what each API accepts -------------------------------------------------------------------------------

function checkOpenAiRequest(body: unknown, apiKey: string | undefined): Reply | undefined {
  if (!apiKey) {
    return openAiError(401, {
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      type: 'invalid_request_error',
    });
  }
  if (apiKey === FAKE_LLM_BAD_KEY) {
    return openAiError(401, {
      message: `Incorrect API key provided: ${maskKey(apiKey)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    });
  }
  if (!isRecord(body)) return openAiError(400, { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error' });
  if (typeof body.model !== 'string' || body.model === '') {
    return openAiError(400, { message: 'you must provide a model parameter', type: 'invalid_request_error' });
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return openAiError(400, { message: "Missing required parameter: 'messages'.", type: 'invalid_request_error', param: 'messages' });
  }
  const toolProblem = checkOpenAiTools(body);
  if (toolProblem) return openAiError(400, { message: toolProblem, type: 'invalid_request_error', param: 'messages' });
  const format = isRecord(body.response_format) ? body.response_format.type : undefined;
  // The real API's rule, which catches a provider that forgets to mention JSON when asking for JSON mode.
  if (format === 'json_object' && !/json/i.test(JSON.stringify(body.messages))) {
    return openAiError(400, {
      message: "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
      type: 'invalid_request_error',
      param: 'messages',
    });
  }
  return undefined;
}

function checkAnthropicRequest(req: IncomingMessage, body: unknown, apiKey: string | undefined): Reply | undefined {
  if (!apiKey) return anthropicError(401, 'authentication_error', 'x-api-key header is required');
  if (apiKey === FAKE_LLM_BAD_KEY) return anthropicError(401, 'authentication_error', 'invalid x-api-key');
  if (!header(req, 'anthropic-version')) return anthropicError(400, 'invalid_request_error', 'anthropic-version: header is required');
  if (!isRecord(body)) return anthropicError(400, 'invalid_request_error', 'There was an issue with the format or content of your request.');
  if (typeof body.model !== 'string' || body.model === '') return anthropicError(400, 'invalid_request_error', 'model: Field required');
  if (typeof body.max_tokens !== 'number') return anthropicError(400, 'invalid_request_error', 'max_tokens: Field required');
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return anthropicError(400, 'invalid_request_error', 'messages: at least one message is required');
  }
  const toolProblem = checkAnthropicTools(body);
  if (toolProblem) return anthropicError(400, 'invalid_request_error', toolProblem);
  return undefined;
}

/**
 * The real API's rules for tools: each is a function with a name and object parameters, and every
 * assistant tool call is answered by a `tool` message with its id before anything else (and nothing else
 * answers a call that was not made).
 */
function checkOpenAiTools(body: Record<string, unknown>): string | undefined {
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return "Invalid type for 'tools': expected an array.";
    for (const [i, t] of body.tools.entries()) {
      const fn = isRecord(t) && t.type === 'function' && isRecord(t.function) ? t.function : undefined;
      if (!fn || typeof fn.name !== 'string') return `Missing required parameter: 'tools[${i}].function.name'.`;
      if (fn.parameters !== undefined && !(isRecord(fn.parameters) && fn.parameters.type === 'object')) {
        return `Invalid schema for function '${fn.name}': schema must be a JSON Schema of 'type: "object"'.`;
      }
    }
  }
  let open = new Set<string>();
  for (const m of body.messages as unknown[]) {
    if (!isRecord(m)) continue;
    if (m.role === 'tool') {
      if (typeof m.tool_call_id !== 'string' || !open.has(m.tool_call_id)) {
        return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
      }
      open.delete(m.tool_call_id);
      continue;
    }
    if (open.size) return "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'.";
    if (m.role === 'assistant' && Array.isArray(m.tool_calls)) {
      open = new Set(m.tool_calls.map((c: unknown) => (isRecord(c) && typeof c.id === 'string' ? c.id : '')));
    }
  }
  return undefined;
}

/** Anthropic's: tools have a name and an object input_schema; each tool_use is answered by a tool_result in the next user turn. */
function checkAnthropicTools(body: Record<string, unknown>): string | undefined {
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return 'tools: Input should be a valid list';
    for (const [i, t] of body.tools.entries()) {
      if (!isRecord(t) || typeof t.name !== 'string') return `tools.${i}.name: Field required`;
      if (!isRecord(t.input_schema) || t.input_schema.type !== 'object') return `tools.${i}.input_schema: Input schema must have type "object"`;
    }
  }
  const messages = body.messages as unknown[];
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m) || m.role !== 'assistant' || !Array.isArray(m.content)) continue;
    const uses = m.content.filter((b: unknown) => isRecord(b) && b.type === 'tool_use').map((b) => (b as Record<string, unknown>).id);
    if (!uses.length) continue;
    const next = messages[i + 1];
    const answered = isRecord(next) && next.role === 'user' && Array.isArray(next.content) ? next.content.filter((b: unknown) => isRecord(b) && b.type === 'tool_result').map((b) => (b as Record<string, unknown>).tool_use_id) : [];
    const missing = uses.filter((id) => !answered.includes(id));
    if (missing.length) return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}`;
  }
  return undefined;
}

// ---- answers -------------------------------------------------------------------------------------------------

function successReply(
  api: FakeLlmApi,
  request: Record<string, unknown>,
  model: string,
  prompt: string,
  system: string | undefined,
  behaviour: FakeLlmBehaviour | undefined,
): Reply {
  const toolCalls = (behaviour?.toolCalls ?? []).map((c, i) => ({ ...c, id: c.id ?? `${api === 'openai' ? 'call' : 'toolu'}_fake_${Math.random().toString(36).slice(2, 10)}_${i}` }));
  const text = behaviour?.text ?? (toolCalls.length ? '' : defaultText(api, request, model, prompt, system));
  // OpenAI's system prompt is one of the messages; Anthropic's stands apart.
  const inputTokens =
    behaviour?.usage?.inputTokens ?? countWords(allMessageText(request)) + (api === 'anthropic' ? countWords(system ?? '') : 0);
  const outputTokens = behaviour?.usage?.outputTokens ?? countWords(text);
  const answerModel = behaviour?.answerModel ?? model;
  const id = Math.random().toString(36).slice(2, 12);
  if (api === 'openai') {
    return {
      status: 200,
      headers: { 'x-request-id': `req_fake_${id}` },
      body: {
        id: `chatcmpl-fake${id}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: answerModel,
        choices: [
          toolCalls.length
            ? {
                index: 0,
                message: {
                  role: 'assistant',
                  content: text || null,
                  refusal: null,
                  tool_calls: toolCalls.map((c) => ({
                    id: c.id,
                    type: 'function',
                    function: { name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments) },
                  })),
                },
                logprobs: null,
                finish_reason: 'tool_calls',
              }
            : { index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
        system_fingerprint: 'fp_fake',
      },
    };
  }
  return {
    status: 200,
    headers: { 'request-id': `req_fake_${id}` },
    body: {
      id: `msg_fake_${id}`,
      type: 'message',
      role: 'assistant',
      model: answerModel,
      content: [
        ...(text || !toolCalls.length ? [{ type: 'text', text }] : []),
        ...toolCalls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments })),
      ],
      stop_reason: toolCalls.length ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  };
}

/** Server-sent events of a streamed answer, cut from the whole one: the text word by word, a tool call's arguments in two parts. */
function streamReply(res: ServerResponse, api: FakeLlmApi, reply: Reply, request: Record<string, unknown>, chunkDelayMs: number, dropAfter?: number): void {
  const events = api === 'openai' ? openAiChunks(reply.body as Record<string, unknown>, request) : anthropicEvents(reply.body as Record<string, unknown>);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...reply.headers });
  let i = 0;
  const next = (): void => {
    if (res.destroyed || res.writableEnded) return;
    if (dropAfter !== undefined && i >= dropAfter) {
      res.destroy();
      return;
    }
    if (i >= events.length) {
      res.end();
      return;
    }
    res.write(events[i++]);
    if (chunkDelayMs > 0) setTimeout(next, chunkDelayMs);
    else setImmediate(next);
  };
  next();
}

function words(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

function halves(text: string): string[] {
  const cut = Math.floor(text.length / 2);
  return cut > 0 ? [text.slice(0, cut), text.slice(cut)] : [text];
}

function openAiChunks(body: Record<string, unknown>, request: Record<string, unknown>): string[] {
  const choice = (body.choices as Record<string, unknown>[])[0]!;
  const message = choice.message as { content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[] };
  const base = { id: body.id, object: 'chat.completion.chunk', created: body.created, model: body.model, system_fingerprint: 'fp_fake' };
  const chunk = (delta: Record<string, unknown>, finish: unknown = null): string =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  const out = [chunk({ role: 'assistant', content: '', refusal: null })];
  for (const piece of words(message.content ?? '')) out.push(chunk({ content: piece }));
  for (const [index, call] of (message.tool_calls ?? []).entries()) {
    out.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }));
    for (const part of halves(call.function.arguments)) out.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
  }
  out.push(chunk({}, choice.finish_reason));
  const options = isRecord(request.stream_options) ? request.stream_options : {};
  if (options.include_usage === true) out.push(`data: ${JSON.stringify({ ...base, choices: [], usage: body.usage })}\n\n`);
  out.push('data: [DONE]\n\n');
  return out;
}

function anthropicEvents(body: Record<string, unknown>): string[] {
  const event = (data: Record<string, unknown>): string => `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`;
  const usage = body.usage as Record<string, number>;
  const content = body.content as Record<string, unknown>[];
  const out = [event({ type: 'message_start', message: { ...body, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } })];
  for (const [index, block] of content.entries()) {
    if (block.type === 'text') {
      out.push(event({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
      for (const piece of words(String(block.text))) out.push(event({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }));
    } else {
      out.push(event({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }));
      for (const part of halves(JSON.stringify(block.input ?? {}))) out.push(event({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } }));
    }
    out.push(event({ type: 'content_block_stop', index }));
  }
  out.push(event({ type: 'message_delta', delta: { stop_reason: body.stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }));
  out.push(event({ type: 'message_stop' }));
  return out;
}

/**
 * `fake:<model>:<prompt>`, or, when the request asks for JSON (OpenAI's JSON mode, or a system prompt that
 * mentions JSON, which a real Claude would obey), the object `{model, prompt}`.
 */
function defaultText(api: FakeLlmApi, request: Record<string, unknown>, model: string, prompt: string, system: string | undefined): string {
  // After tool calls, a model answers from what they gave: `fake:<model>:tools:<result> | <result>`.
  const results = trailingToolResults(api, request);
  if (results.length) return `fake:${model}:tools:${results.map((r) => r.content).join(' | ')}`;
  const format = isRecord(request.response_format) ? request.response_format.type : undefined;
  const wantsJson = api === 'openai' ? format === 'json_object' || format === 'json_schema' : /\bJSON\b/.test(system ?? '');
  return wantsJson ? JSON.stringify({ model, prompt }) : `fake:${model}:${prompt}`;
}

const OPENAI_ERRORS: Record<number, { message: string; type: string; code?: string }> = {
  400: { message: 'Invalid request.', type: 'invalid_request_error' },
  401: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { message: 'You are not allowed to sample from this model.', type: 'invalid_request_error' },
  408: { message: 'Request timed out.', type: 'server_error' },
  409: { message: 'The request conflicted with another request.', type: 'invalid_request_error' },
  422: { message: 'Unprocessable entity.', type: 'invalid_request_error' },
  429: { message: 'Rate limit reached for requests. Please try again in 1s.', type: 'requests', code: 'rate_limit_exceeded' },
  500: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error' },
  502: { message: 'Bad gateway.', type: 'server_error' },
  503: { message: 'The engine is currently overloaded, please try again later.', type: 'server_error' },
};

const ANTHROPIC_ERRORS: Record<number, { message: string; type: string }> = {
  400: { message: 'There was an issue with the format or content of your request.', type: 'invalid_request_error' },
  401: { message: 'invalid x-api-key', type: 'authentication_error' },
  402: { message: 'Your credit balance is too low to access the Anthropic API.', type: 'billing_error' },
  403: { message: 'Your API key does not have permission to use the specified resource.', type: 'permission_error' },
  404: { message: 'The requested resource could not be found.', type: 'not_found_error' },
  413: { message: 'Request exceeds the maximum allowed number of bytes.', type: 'request_too_large' },
  429: { message: 'Number of request tokens has exceeded your per-minute rate limit.', type: 'rate_limit_error' },
  500: { message: 'Internal server error', type: 'api_error' },
  504: { message: 'Request timed out', type: 'timeout_error' },
  529: { message: 'Overloaded', type: 'overloaded_error' },
};

function errorReply(api: FakeLlmApi, status: number, model: string, behaviour: FakeLlmBehaviour): Reply {
  const headers: Record<string, string> =
    behaviour.retryAfterSeconds !== undefined ? { 'retry-after': String(behaviour.retryAfterSeconds) } : {};
  if (api === 'openai') {
    const known = OPENAI_ERRORS[status];
    const fallback =
      status === 404
        ? { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', code: 'model_not_found' }
        : (known ?? { message: `Fake error ${status}.`, type: status >= 500 ? 'server_error' : 'invalid_request_error' });
    const code = behaviour.code ?? fallback.code;
    const reply = openAiError(status, {
      message: behaviour.message ?? fallback.message,
      type: behaviour.errorType ?? fallback.type,
      ...(code !== undefined ? { code } : {}),
    });
    return { ...reply, headers };
  }
  const known = ANTHROPIC_ERRORS[status] ?? { message: `Fake error ${status}`, type: status >= 500 ? 'api_error' : 'invalid_request_error' };
  const message = behaviour.message ?? (status === 404 ? `model: ${model}` : known.message);
  const reply = anthropicError(status, behaviour.errorType ?? known.type, message, behaviour.code);
  return { ...reply, headers };
}

function openAiError(status: number, error: { message: string; type: string; param?: string; code?: string }): Reply {
  return { status, body: { error: { message: error.message, type: error.type, param: error.param ?? null, code: error.code ?? null } } };
}

function anthropicError(status: number, type: string, message: string, errorCode?: string): Reply {
  const details = errorCode !== undefined ? { details: { error_code: errorCode } } : {};
  return {
    status,
    headers: {},
    body: { type: 'error', error: { type, message, ...details }, request_id: `req_fake_${Math.random().toString(36).slice(2, 12)}` },
  };
}

function send(res: ServerResponse, reply: Reply): void {
  const payload = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}

// ---- reading requests ----------------------------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  return match?.[1];
}

function publicHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'authorization' || name === 'x-api-key' || value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Message content is a string or a list of parts in both APIs; the text parts are what a test cares about. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => (isRecord(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  // An Anthropic user turn of tool results only has no text: the prompt is the last one that has.
  const users = messages.filter((m: unknown): m is Record<string, unknown> => isRecord(m) && m.role === 'user' && contentText(m.content) !== '');
  return contentText(users[users.length - 1]?.content);
}

function allMessageText(request: Record<string, unknown>): string {
  return Array.isArray(request.messages)
    ? request.messages.map((m: unknown) => (isRecord(m) ? contentText(m.content) : '')).join(' ')
    : '';
}

function offeredTools(api: FakeLlmApi, request: Record<string, unknown>): string[] {
  if (!Array.isArray(request.tools)) return [];
  return request.tools.map((t: unknown) => {
    const named = api === 'openai' && isRecord(t) && isRecord(t.function) ? t.function : t;
    return isRecord(named) && typeof named.name === 'string' ? named.name : '';
  });
}

function trailingToolResults(api: FakeLlmApi, request: Record<string, unknown>): FakeLlmCall['toolResults'] {
  const messages = Array.isArray(request.messages) ? request.messages.filter(isRecord) : [];
  if (api === 'openai') {
    const results: FakeLlmCall['toolResults'] = [];
    for (let i = messages.length - 1; i >= 0 && messages[i]!.role === 'tool'; i--) {
      const m = messages[i]!;
      results.unshift({ id: String(m.tool_call_id ?? ''), content: typeof m.content === 'string' ? m.content : contentText(m.content), isError: false });
    }
    return results;
  }
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'user' || !Array.isArray(last.content)) return [];
  return last.content.filter((b: unknown): b is Record<string, unknown> => isRecord(b) && b.type === 'tool_result').map((b) => ({
    id: String(b.tool_use_id ?? ''),
    content: typeof b.content === 'string' ? b.content : contentText(b.content),
    isError: b.is_error === true,
  }));
}

function openAiPrompt(request: Record<string, unknown>): { prompt: string; system?: string } {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  const systems = messages
    .filter((m: unknown): m is Record<string, unknown> => isRecord(m) && (m.role === 'system' || m.role === 'developer'))
    .map((m) => contentText(m.content));
  return { prompt: lastUserText(messages), ...(systems.length > 0 ? { system: systems.join('\n') } : {}) };
}

function anthropicPrompt(request: Record<string, unknown>): { prompt: string; system?: string } {
  const system = request.system === undefined ? undefined : contentText(request.system);
  return { prompt: lastUserText(request.messages), ...(system !== undefined ? { system } : {}) };
}

function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}

function maskKey(key: string): string {
  return key.length <= 4 ? '****' : `${key.slice(0, 2)}****${key.slice(-2)}`;
}
