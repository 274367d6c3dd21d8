// What Temporal holds of a run is ciphertext (issue 14 item 1): the Temporal CLI shows none of a run's prompt or
// inputs, for a run, its subflow child and a scheduled firing; the codec endpoint decodes those payloads for an
// owner or admin of the run's tenant (or the platform operator) and refuses another tenant, a viewer and anyone
// unauthenticated. Real API, worker, Temporal dev server and its CLI.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { temporalCliPath } from './global-setup';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { singleAgentGraph } from './fixtures/graphs';
import { readableHistory } from './support/history-text';
import { reviewGraph } from './fixtures/approval-graphs';
import { addMember, createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { testTemporalAddress } from './support/temporal';
import { waitUntil } from './support/wait-until';

const run = promisify(execFile);

const PROMPT_MARK = 'Confidential brief PRM-81f2';
const INPUT_MARK = 'narwhal-zebra-7Q';
/** What a provider answers a failing turn with, quoted into the activity's failure message. */
const FAILURE_MARK = 'quota of project orca-5521 exhausted';
const OPERATOR_TOKEN = 'operator-token-operator-token-operator-token';
const UI_ORIGIN = 'http://localhost:8233';
const ENCRYPTED = Buffer.from('binary/encrypted').toString('base64');

let fake: FakeLlmServer;
let stack: TestStack;
let owner: TestSession;
let admin: TestSession;
let viewer: TestSession;
let strangerAdmin: TestSession;
let parent: { executionId: string; temporalId: string; history: any };
let child: { temporalId: string; history: any };

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function childGraph() {
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
      { id: 'inner', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: `${PROMPT_MARK} (child): {{inputs.topic}}` } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.inner.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'inner' },
      { id: 'e2', source: 'inner', target: 'out' },
    ],
  };
}

function parentGraph(childWorkflowId: string) {
  return {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
      { id: 'draft', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'echo', model: 'echo-1', system: PROMPT_MARK, prompt: `${PROMPT_MARK}: {{inputs.topic}}` } },
      { id: 'sub', type: 'subflow', position: { x: 400, y: 0 }, data: { workflowId: childWorkflowId, inputs: { topic: '{{inputs.topic}}' } } },
      { id: 'out', type: 'output', position: { x: 600, y: 0 }, data: { value: '{{nodes.draft.text}} / {{nodes.sub.out}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'draft' },
      { id: 'e2', source: 'draft', target: 'sub' },
      { id: 'e3', source: 'sub', target: 'out' },
    ],
  };
}

/** `temporal workflow show` of a workflow, as the operator's CLI prints it (text) and as JSON. */
async function cliShow(workflowId: string): Promise<{ text: string; json: any }> {
  const base = [`--address`, testTemporalAddress(), '--namespace', 'default', '--workflow-id', workflowId];
  const text = (await run(temporalCliPath(), ['workflow', 'show', ...base], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  const json = JSON.parse((await run(temporalCliPath(), ['workflow', 'show', ...base, '--output', 'json'], { maxBuffer: 64 * 1024 * 1024 })).stdout);
  return { text, json };
}

/**
 * Every payload of a history but those the codec never sees by design: search attributes and headers, and what
 * Temporal's core SDK writes itself into markers (a patch's name, a local activity's bookkeeping).
 */
function payloadsOf(node: unknown, out: JsonPayload[] = []): JsonPayload[] {
  if (Array.isArray(node)) {
    for (const item of node) payloadsOf(item, out);
  } else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.metadata && typeof o.metadata === 'object' && 'encoding' in (o.metadata as object)) out.push(o as JsonPayload);
    else if (o.markerName === 'core_patch') return out;
    // A local activity's marker: its `result` is the workflow's payload; `data` is the core SDK's own bookkeeping
    // (sequence number, attempt, activity type, times).
    else if (o.markerName === 'core_local_activity') payloadsOf((o.details as { result?: unknown } | undefined)?.result, out);
    else for (const [k, v] of Object.entries(o)) if (k !== 'searchAttributes' && k !== 'header') payloadsOf(v, out);
  }
  return out;
}

const meta = (p: JsonPayload, key: string) => Buffer.from(p.metadata?.[key] ?? '', 'base64').toString('utf8');

function codec(op: 'decode' | 'encode' | 'session', body: unknown, headers: Record<string, string> = {}, token?: string) {
  return stack.request('POST', `/api/v1/temporal-codec/${op}`, { body, headers, ...(token ? { token } : {}) });
}

function expectAllEncryptedFor(history: any, tenantId: string): number {
  const payloads = payloadsOf(history);
  expect(payloads.length).toBeGreaterThan(0);
  const plain = payloads.filter((p) => meta(p, 'encoding') !== 'binary/encrypted' || meta(p, 'tessera-tenant-id') !== tenantId);
  expect(plain.map((p) => ({ encoding: meta(p, 'encoding'), tenant: meta(p, 'tessera-tenant-id'), data: Buffer.from(p.data ?? '', 'base64').toString('utf8').slice(0, 200) }))).toEqual([]);
  return payloads.length;
}

beforeAll(async () => {
  fake = await startFakeLlmServer();
  stack = await startTestStack({
    temporalCodecOperatorToken: OPERATOR_TOKEN,
    providers: { openai: { apiKey: 'test-openai-key', baseURL: fake.openaiBaseURL }, anthropic: { apiKey: 'test-anthropic-key', baseURL: fake.anthropicBaseURL } },
  });
  owner = await registerTenant(stack, 'Codec owner');
  admin = await addMember(stack, owner, 'admin');
  viewer = await addMember(stack, owner, 'viewer');
  const stranger = await registerTenant(stack, 'Codec stranger');
  strangerAdmin = await addMember(stack, stranger, 'admin');

  const childId = await createWorkflow(stack, owner, childGraph(), 'Codec child');
  const parentId = await createWorkflow(stack, owner, parentGraph(childId), 'Codec parent');
  const executionId = await startRun(stack, owner, parentId, { topic: INPUT_MARK });
  const done = await waitForExecution(stack, owner, executionId);
  expect(done.status).toBe('succeeded');
  // The plaintext exists: the run's own outputs carry both marks, so their absence below means something.
  expect(JSON.stringify(done.outputs)).toContain(`${PROMPT_MARK}: ${INPUT_MARK}`);
  expect(JSON.stringify(done.outputs)).toContain(`${PROMPT_MARK} (child): ${INPUT_MARK}`);
  const shown = await cliShow(done.temporal.workflowId);
  parent = { executionId, temporalId: done.temporal.workflowId, history: shown.json };
  const childStarted = shown.json.events.find((e: any) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  const childTemporalId: string = childStarted.startChildWorkflowExecutionInitiatedEventAttributes.workflowId;
  child = { temporalId: childTemporalId, history: (await cliShow(childTemporalId)).json };
}, 180_000);

afterAll(async () => {
  await stack?.close();
  await fake?.close();
});

describe('temporal workflow show', () => {
  it("of a run and of its subflow child contains none of the run's prompt or input text", async () => {
    for (const id of [parent.temporalId, child.temporalId]) {
      const { text, json } = await cliShow(id);
      const raw = JSON.stringify(json);
      for (const shown of [text, raw]) {
        expect(shown).not.toContain(PROMPT_MARK);
        expect(shown).not.toContain(INPUT_MARK);
        // Not hidden in base64 either.
        expect(shown).not.toContain(Buffer.from(INPUT_MARK).toString('base64').slice(0, 12));
      }
      expect(raw).toContain(ENCRYPTED);
    }
  });

  it("encrypts every payload of both histories for the run's tenant (the child's under its own workflow id)", () => {
    const counts = [expectAllEncryptedFor(parent.history, owner.tenantId), expectAllEncryptedFor(child.history, owner.tenantId)];
    console.log(`encrypted payloads in history: parent ${counts[0]}, child ${counts[1]}`);
  });

  it("encrypts a scheduled firing's payloads and its run's for the schedule's tenant", async () => {
    const workflowId = await createWorkflow(stack, owner, childGraph(), 'Codec scheduled');
    const created = await stack.request('POST', `/api/v1/workflows/${workflowId}/schedules`, { token: owner.token, body: { intervalSeconds: 3600, paused: true, inputs: { topic: INPUT_MARK } } });
    expect(created.status).toBe(201);
    expect((await stack.request('POST', `/api/v1/schedules/${created.body.id}/trigger`, { token: owner.token })).status).toBe(202);
    const scheduled = await waitUntil('the scheduled run is recorded and done', async () => {
      const res = await stack.request('GET', `/api/v1/executions?workflowId=${workflowId}&trigger=schedule&limit=10`, { token: owner.token });
      const item = res.body.items?.[0];
      return item && ['succeeded', 'failed'].includes(item.status) ? item : null;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(scheduled.status).toBe('succeeded');
    const runHistory = (await cliShow(scheduled.temporal.workflowId)).json;
    expect(JSON.stringify(runHistory)).not.toContain(INPUT_MARK);
    expectAllEncryptedFor(runHistory, owner.tenantId);
    const firings = [];
    for await (const info of stack.temporal.workflow.list({ query: `WorkflowType = "scheduledStart" AND TenantId = "${owner.tenantId}"` })) firings.push(info.workflowId);
    expect(firings.length).toBeGreaterThan(0);
    for (const id of firings) expectAllEncryptedFor((await cliShow(id)).json, owner.tenantId);
  }, 120_000);
});

describe('POST /api/v1/temporal-codec/decode', () => {
  const started = () => ({ payloads: parent.history.events[0].workflowExecutionStartedEventAttributes.input.payloads as JsonPayload[] });
  const decodedText = (body: any) => body.payloads.map((p: JsonPayload) => Buffer.from(p.data ?? '', 'base64').toString('utf8')).join('\n');

  it("decodes the run's payloads for an owner and an admin of its tenant", async () => {
    for (const who of [owner, admin]) {
      const res = await codec('decode', started(), {}, who.token);
      expect(res.status).toBe(200);
      expect(decodedText(res.body)).toContain(INPUT_MARK);
      expect(meta(res.body.payloads[0], 'encoding')).toBe('json/plain');
    }
  });

  it("refuses another tenant's admin (404), a viewer (403) and an unauthenticated caller (401)", async () => {
    const other = await codec('decode', started(), {}, strangerAdmin.token);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('NOT_FOUND');
    expect(JSON.stringify(other.body)).not.toContain(INPUT_MARK);
    const low = await codec('decode', started(), {}, viewer.token);
    expect(low.status).toBe(403);
    expect(low.body.error.code).toBe('FORBIDDEN');
    const anonymous = await codec('decode', started());
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await codec('decode', started(), { authorization: 'Bearer not-the-operator-token' })).status).toBe(401);
  });

  it("refuses the whole request when one payload is another tenant's, even among the caller's own", async () => {
    const mine = await codec('encode', { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"mine"').toString('base64') }] }, {}, strangerAdmin.token);
    const res = await codec('decode', { payloads: [...mine.body.payloads, ...started().payloads] }, {}, strangerAdmin.token);
    expect(res.status).toBe(404);
    expect(res.body.error.details).toEqual({ index: 1 });
  });

  it("decodes every tenant's payloads for the platform operator's credential", async () => {
    const res = await codec('decode', started(), { authorization: `Bearer ${OPERATOR_TOKEN}` });
    expect(res.status).toBe(200);
    expect(decodedText(res.body)).toContain(INPUT_MARK);
  });

  it('decodes every payload of the history the CLI printed, activity arguments and results included', async () => {
    const all = payloadsOf(parent.history);
    const res = await codec('decode', { payloads: all }, {}, admin.token);
    expect(res.status).toBe(200);
    expect(res.body.payloads).toHaveLength(all.length);
    expect(decodedText(res.body)).toContain(`${PROMPT_MARK}: ${INPUT_MARK}`);
  });

  it('answers a malformed body with a 400 in the error shape', async () => {
    const res = await codec('decode', { payloads: [{ data: 'not base64!' }] }, {}, owner.token);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const broken = await codec('decode', { payloads: [{ ...started().payloads[0], data: Buffer.from('short').toString('base64') }] }, {}, owner.token);
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('PAYLOAD_UNREADABLE');
  });
});

describe('POST /api/v1/temporal-codec/encode', () => {
  const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from(JSON.stringify({ nodeId: 'review', decision: 'approve' })).toString('base64') };

  it("encrypts for the caller's tenant and round-trips through decode", async () => {
    const encoded = await codec('encode', { payloads: [plain] }, {}, admin.token);
    expect(encoded.status).toBe(200);
    const [sealed] = encoded.body.payloads;
    expect({ encoding: meta(sealed, 'encoding'), tenant: meta(sealed, 'tessera-tenant-id') }).toEqual({ encoding: 'binary/encrypted', tenant: owner.tenantId });
    expect(Buffer.from(sealed.data, 'base64').toString('latin1')).not.toContain('review');
    const decoded = await codec('decode', encoded.body, {}, owner.token);
    expect(decoded.body.payloads).toEqual([plain]);
    expect((await codec('decode', encoded.body, {}, strangerAdmin.token)).status).toBe(404);
  });

  it("encrypts for the tenant an operator names, and gives an operator's payloads back as they are when none is named", async () => {
    const op = { authorization: `Bearer ${OPERATOR_TOKEN}` };
    const named = await codec('encode', { payloads: [plain] }, { ...op, 'x-tessera-tenant-id': owner.tenantId });
    expect(meta(named.body.payloads[0], 'tessera-tenant-id')).toBe(owner.tenantId);
    expect((await codec('encode', { payloads: [plain] }, op)).body.payloads).toEqual([plain]);
    expect((await codec('encode', { payloads: [plain] }, { ...op, 'x-tessera-tenant-id': '../x' })).status).toBe(400);
  });
});

describe("the Temporal UI's credential", () => {
  it('is an HttpOnly cookie for the codec path, which the UI origin may send and no other origin may read', async () => {
    const session = await codec('session', undefined, {}, admin.token);
    expect(session.status).toBe(204);
    const setCookie = session.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^tessera_temporal_codec=/);
    expect(setCookie).toMatch(/Path=\/api\/v1\/temporal-codec/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    expect((await codec('session', undefined, {}, viewer.token)).status).toBe(403);

    const preflight = await fetch(`${stack.baseUrl}/api/v1/temporal-codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');

    const fromUi = await codec('decode', { payloads: [parent.history.events[0].workflowExecutionStartedEventAttributes.input.payloads[0]] }, { cookie, origin: UI_ORIGIN, 'x-namespace': 'default' });
    expect(fromUi.status).toBe(200);
    expect(fromUi.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const elsewhere = await fetch(`${stack.baseUrl}/api/v1/temporal-codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe("an operator's decision signal from the Temporal CLI", () => {
  it('is recorded with the identity Temporal gives its sender, beside the name its payload claims', async () => {
    const workflowId = await createWorkflow(stack, owner, reviewGraph(), 'Codec approval');
    const executionId = await startRun(stack, owner, workflowId, { topic: INPUT_MARK });
    const waiting = await waitForExecution(stack, owner, executionId, (e) => e.status === 'waiting');
    const signal = JSON.stringify({ nodeId: 'review', decision: 'approve', comment: 'ok from the CLI', operator: 'claims-to-be-the-ceo' });
    await run(temporalCliPath(), [
      'workflow', 'signal', '--address', testTemporalAddress(), '--namespace', 'default',
      '--workflow-id', waiting.temporal.workflowId, '--name', 'decision', '--input', signal, '--identity', 'ops-alice@bastion-1',
    ]);
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('succeeded');
    const events = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
    const decided = events.body.events.find((e: any) => e.type === 'approval.decided');
    expect(decided.data).toMatchObject({ by: 'operator', name: 'claims-to-be-the-ceo', identity: 'ops-alice@bastion-1' });
    expect(done.nodes.find((n: any) => n.nodeId === 'review').output.decisions[0]).toMatchObject({ by: 'operator', identity: 'ops-alice@bastion-1' });
  }, 120_000);
});

describe("a failure's text in Temporal", () => {
  it('is encrypted with the payloads: the CLI shows "Encoded failure", the codec gives the message back, the run records it', async () => {
    fake.script('fails', { status: 400, message: FAILURE_MARK });
    const workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'openai', model: 'fails' }), 'Codec failure');
    const executionId = await startRun(stack, owner, workflowId, { topic: INPUT_MARK });
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('failed');
    // The plaintext exists: the run's own record carries the provider's message.
    expect(JSON.stringify(done.nodes.find((n: any) => n.nodeId === 'ask').error)).toContain(FAILURE_MARK);
    const { text, json } = await cliShow(done.temporal.workflowId);
    const failures = json.events.filter((e: any) => e.activityTaskFailedEventAttributes).map((e: any) => e.activityTaskFailedEventAttributes.failure);
    expect(failures.length).toBeGreaterThan(0);
    for (const shown of [text, JSON.stringify(json)]) expect(shown).not.toContain(FAILURE_MARK);
    expect(failures.map((f: any) => f.message)).toEqual(failures.map(() => 'Encoded failure'));
    // Decoded with the tenant's key, the message and stack trace are there.
    const history = await stack.temporal.workflow.getHandle(done.temporal.workflowId).fetchHistory();
    expect(await readableHistory(stack.payloadCodec, history)).toContain(FAILURE_MARK);
  }, 120_000);
});
