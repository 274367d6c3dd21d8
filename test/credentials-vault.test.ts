// The credentials vault end to end: an agent node names a credential by id, the worker decrypts it inside
// the activity, the provider (the fake LLM server) receives it — and the secret appears in no API response,
// no log line of the API or the worker, no stored event and nowhere in the run's Temporal history.
import { Writable } from 'node:stream';
import { temporalWorkflowId } from '../core/events';
import { tenantSchemaName } from '../db';
import { startFakeLlmServer, type FakeLlmServer } from './fake-llm/server';
import { singleAgentGraph } from './fixtures/graphs';
import { readableHistory } from './support/history-text';
import { createWorkflow, registerTenant, startRun, waitForExecution } from './support/session';
import { startTestStack, type ApiResponse, type TestStack } from './support/stack';

jest.setTimeout(120_000);

const SECRET = `sk-vault-${Math.random().toString(36).slice(2)}-never-leak`;

let stack: TestStack;
let fake: FakeLlmServer;
const logLines: string[] = [];
const responses: string[] = [];

/** Everything the worker and Temporal's runtime print while the run happens. */
const printed: string[] = [];
const restore: (() => void)[] = [];

function capturePrinted(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      printed.push(String(chunk));
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = original as typeof stream.write;
    });
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const original = console[level];
    console[level] = (...args: unknown[]) => {
      printed.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      original(...args);
    };
    restore.push(() => {
      console[level] = original;
    });
  }
}

async function call(method: string, path: string, opts: Parameters<TestStack['request']>[2] = {}): Promise<ApiResponse> {
  const res = await stack.request(method, path, opts);
  responses.push(JSON.stringify(res.body), JSON.stringify([...res.headers.entries()]));
  return res;
}

beforeAll(async () => {
  capturePrinted();
  fake = await startFakeLlmServer();
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  // No OPENAI_API_KEY: the only key the provider can get is the credential's.
  stack = await startTestStack({ providers: { openai: { baseURL: fake.openaiBaseURL }, anthropic: {} }, logStream });
});

afterAll(async () => {
  for (const undo of restore) undo();
  await stack?.close();
  await fake?.close();
});

describe('credentials vault', () => {
  it('hands the decrypted key to the provider and never shows it in responses, logs, events or Temporal history', async () => {
    const owner = await registerTenant(stack);
    const created = await call('POST', '/api/v1/credentials', { token: owner.token, body: { provider: 'openai', name: 'Production OpenAI', secret: SECRET } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), provider: 'openai', name: 'Production OpenAI', baseUrl: null, createdBy: owner.userId, createdAt: expect.any(String), rotatedAt: null, usedBy: [] });

    const workflowId = await createWorkflow(stack, owner, singleAgentGraph({ provider: 'openai', model: 'gpt-4o-mini', credentialId: created.body.id }));
    const executionId = await startRun(stack, owner, workflowId);
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('succeeded');

    // The positive control: the secret did travel, to the provider and nowhere else.
    expect(fake.calls.map((c) => c.apiKey)).toEqual([SECRET]);

    await call('GET', `/api/v1/executions/${executionId}`, { token: owner.token });
    await call('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
    await call('GET', '/api/v1/credentials', { token: owner.token });
    await call('GET', `/api/v1/workflows/${workflowId}`, { token: owner.token });
    await call('GET', '/api/v1/tenant/audit-log', { token: owner.token });
    expect(responses.join('\n')).toContain(created.body.id);
    expect(responses.join('\n')).not.toContain(SECRET);

    expect(logLines.length).toBeGreaterThan(5);
    expect(logLines.join('\n')).not.toContain(SECRET);
    expect(printed.join('\n')).not.toContain(SECRET);

    const schema = tenantSchemaName(owner.tenantId);
    const events: { row: string }[] = await stack.db.dataSource.query(`select row_to_json(e)::text as row from ${schema}.execution_events e`);
    expect(events.length).toBeGreaterThan(3);
    expect(events.map((e) => e.row).join('\n')).not.toContain(SECRET);
    const everything: { row: string }[] = await stack.db.dataSource.query(
      `select row_to_json(x)::text as row from (select * from ${schema}.executions) x union all select row_to_json(n)::text from ${schema}.node_executions n`,
    );
    expect(everything.map((e) => e.row).join('\n')).not.toContain(SECRET);

    const [stored] = await stack.db.dataSource.query(`select ciphertext from ${schema}.credentials where id = $1`, [created.body.id]);
    expect(Buffer.from(stored.ciphertext).toString('utf8')).not.toContain(SECRET);

    const history = await stack.temporal.workflow.getHandle(temporalWorkflowId(owner.tenantId, executionId)).fetchHistory();
    // Temporal holds the payloads encrypted: they are searched decrypted.
    const historyText = await readableHistory(stack.payloadCodec, history);
    expect(historyText).toContain(created.body.id);
    expect(historyText).not.toContain(SECRET);
    expect(historyText).not.toContain(Buffer.from(SECRET).toString('base64'));
  });

  it("cannot use another tenant's credential: the agent node fails as if the id did not exist", async () => {
    const a = await registerTenant(stack);
    const b = await registerTenant(stack);
    const cred = await call('POST', '/api/v1/credentials', { token: a.token, body: { provider: 'openai', name: 'A only', secret: `${SECRET}-a` } });
    const workflowId = await createWorkflow(stack, b, singleAgentGraph({ provider: 'openai', model: 'gpt-4o-mini', credentialId: cred.body.id }));
    const before = fake.calls.length;
    const done = await waitForExecution(stack, b, await startRun(stack, b, workflowId));
    expect(done.status).toBe('failed');
    expect(JSON.stringify(done)).toContain(`credential ${cred.body.id} not found`);
    expect(fake.calls.length).toBe(before);
  });

  it('lists credentials without their secrets and deletes them', async () => {
    const owner = await registerTenant(stack);
    const created = await call('POST', '/api/v1/credentials', { token: owner.token, body: { provider: 'anthropic', name: 'Claude', secret: `${SECRET}-c` } });
    const list = await call('GET', '/api/v1/credentials', { token: owner.token });
    expect(list.body.credentials).toEqual([{ id: created.body.id, provider: 'anthropic', name: 'Claude', baseUrl: null, createdBy: owner.userId, createdAt: expect.any(String), rotatedAt: null, usedBy: [] }]);
    expect((await call('DELETE', `/api/v1/credentials/${created.body.id}`, { token: owner.token })).status).toBe(204);
    expect((await call('DELETE', `/api/v1/credentials/${created.body.id}`, { token: owner.token })).status).toBe(404);
    expect((await call('GET', '/api/v1/credentials', { token: owner.token })).body.credentials).toEqual([]);
    expect(responses.join('\n')).not.toContain(SECRET);
  });
});
