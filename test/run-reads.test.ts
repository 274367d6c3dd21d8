// Reading a run is a database read (issue 10): GET /executions/:id asks Temporal only when the open run's
// row is stale or the reader asks (?refresh=true); a run terminated in Temporal is recorded with who did it and
// why (issue 14 item 1); the WebSocket hub's streams keep tenants apart.
import { Client } from '@temporalio/client';
import { temporalWorkflowId } from '../core/events';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { openSocket } from './support/ws-client';

const HOUR_MS = 60 * 60_000;
/** The identity the operator's Temporal client gives; Temporal records it on the termination. */
const OPERATOR = 'ops-alice@temporal-cli';
/** What the row says of a run terminated in Temporal: who did it and why, as Temporal recorded them. */
const TERMINATED = {
  status: 'cancelled',
  cancelledBy: `temporal:${OPERATOR}`,
  error: { code: 'RUN_TERMINATED', message: `the run was terminated in Temporal by ${OPERATOR}: an operator pulled the plug` },
};

/** trigger → approval → output: a run that waits, with its row unchanged, until someone decides. */
const waitingGraph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: {} } },
    { id: 'review', type: 'approval', position: { x: 200, y: 0 }, data: { title: 'Go?' } },
    { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.review.decision}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'review' },
    { id: 'e2', source: 'review', sourceHandle: 'approved', target: 'out' },
  ],
};

async function waitingRunTerminatedInTemporal(stack: TestStack, owner: TestSession): Promise<string> {
  const workflowId = await createWorkflow(stack, owner, waitingGraph, 'Waits');
  const executionId = await startRun(stack, owner, workflowId);
  await waitForExecution(stack, owner, executionId, (e) => e.status === 'waiting');
  // An operator ends the workflow in Temporal, with a client of their own: the run records nothing, its row still says waiting.
  const operator = new Client({ connection: stack.temporal.connection, namespace: 'default', identity: OPERATOR });
  await operator.workflow.getHandle(temporalWorkflowId(owner.tenantId, executionId)).terminate('an operator pulled the plug');
  return executionId;
}

describe('a stack whose rows turn stale only after an hour', () => {
  let stack: TestStack;
  let owner: TestSession;

  beforeAll(async () => {
    stack = await startTestStack({ runRepairStaleMs: HOUR_MS });
    owner = await registerTenant(stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers a fresh row from the database and asks Temporal only on ?refresh=true', async () => {
    const executionId = await waitingRunTerminatedInTemporal(stack, owner);
    const read = await stack.request('GET', `/api/v1/executions/${executionId}`, { token: owner.token });
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('waiting');
    const refreshed = await stack.request('GET', `/api/v1/executions/${executionId}?refresh=true`, { token: owner.token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject(TERMINATED);
    expect(refreshed.body.nodes.find((n: { nodeId: string }) => n.nodeId === 'review').status).toBe('cancelled');
    // Repaired for good: the plain read now says the same.
    expect((await stack.request('GET', `/api/v1/executions/${executionId}`, { token: owner.token })).body.status).toBe('cancelled');
  });

  it('refuses a refresh value that is not true or false', async () => {
    const workflowId = await createWorkflow(stack, owner, waitingGraph, 'Bad refresh');
    const executionId = await startRun(stack, owner, workflowId);
    const res = await stack.request('GET', `/api/v1/executions/${executionId}?refresh=yes`, { token: owner.token });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('a subscription to another tenant\'s run is not found and hears none of its events', async () => {
    const other = await registerTenant(stack);
    const workflowId = await createWorkflow(stack, owner, waitingGraph, 'Private');
    const executionId = await startRun(stack, owner, workflowId);
    const mine = await openSocket(stack.wsUrl, owner.token);
    const theirs = await openSocket(stack.wsUrl, other.token);
    try {
      mine.send({ type: 'subscribe', executionId, afterSeq: 0 });
      theirs.send({ type: 'subscribe', executionId, afterSeq: 0 });
      // The owner's stream is open (the run is subscribed in this process) when the other tenant asks.
      await mine.waitFor((m) => m.type === 'subscribed' && m.executionId === executionId);
      const refused = await theirs.waitFor((m) => m.type === 'error' && m.executionId === executionId);
      expect(refused.code).toBe('NOT_FOUND');
      await waitForExecution(stack, owner, executionId, (e) => e.status === 'waiting');
      const decided = await stack.request('POST', `/api/v1/executions/${executionId}/approvals/review`, { token: owner.token, body: { decision: 'approve' } });
      expect(decided.status).toBe(200);
      await mine.waitFor((m) => m.type === 'event' && m.event.type === 'execution.succeeded');
      const seqs = mine.messages.filter((m) => m.type === 'event').map((m) => m.event.seq);
      expect(seqs).toEqual(seqs.map((_: number, i: number) => i + 1));
      expect(theirs.messages.filter((m) => m.type === 'event')).toEqual([]);
    } finally {
      await mine.close();
      await theirs.close();
    }
  });
});

describe('a stack whose rows are stale at once', () => {
  let stack: TestStack;
  let owner: TestSession;

  beforeAll(async () => {
    stack = await startTestStack({ runRepairStaleMs: 0 });
    owner = await registerTenant(stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('repairs a run Temporal ended on a plain read', async () => {
    const executionId = await waitingRunTerminatedInTemporal(stack, owner);
    const read = await stack.request('GET', `/api/v1/executions/${executionId}`, { token: owner.token });
    expect(read.body).toMatchObject(TERMINATED);
    expect(read.body.finishedAt).not.toBeNull();
  });
});
