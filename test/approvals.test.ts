// Human-in-the-loop approvals: a durable wait inside the Temporal run, decided through the API (the
// `decide` Update and its validator) or by an operator's `decision` Signal, routed by its out handles.
import { Worker } from '@temporalio/worker';
import { tesseraDataConverter } from '../db/temporal-payload-codec';
import { DECISION_SIGNAL } from '../core/run-protocol';
import { parallelApprovalsGraph, reviewGraph } from './fixtures/approval-graphs';
import { addMember, createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { waitUntil } from './support/wait-until';
import { openSocket } from './support/ws-client';

jest.setTimeout(120_000);

let stack: TestStack;
let owner: TestSession;

beforeAll(async () => {
  stack = await startTestStack();
  owner = await registerTenant(stack);
});

afterAll(async () => {
  await stack?.close();
});

const waiting = (nodeId: string) => (e: any) => e.status === 'waiting' && e.nodes.some((n: any) => n.nodeId === nodeId && n.status === 'waiting');
const nodeStatus = (e: any) => Object.fromEntries(e.nodes.map((n: any) => [n.nodeId, n.status]));

async function startWaiting(session: TestSession, approval: Record<string, unknown> = {}, graph: unknown = reviewGraph(approval)): Promise<string> {
  const workflowId = await createWorkflow(stack, session, graph);
  const executionId = await startRun(stack, session, workflowId);
  await waitForExecution(stack, session, executionId, waiting(Object.keys(approval).includes('__node') ? String(approval.__node) : 'review'));
  return executionId;
}

function decide(session: TestSession, executionId: string, nodeId: string, body: unknown) {
  return stack.request('POST', `/api/v1/executions/${executionId}/approvals/${nodeId}`, { token: session.token, body });
}

async function eventTypes(session: TestSession, executionId: string): Promise<string[]> {
  const res = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: session.token });
  return res.body.events.map((e: any) => `${e.type}${e.nodeId ? `:${e.nodeId}` : ''}`);
}

describe('deciding', () => {
  it('approve runs only the approved branch, with the decision in the node output', async () => {
    const socket = await openSocket(stack.wsUrl, owner.token);
    const executionId = await startWaiting(owner);
    socket.send({ type: 'subscribe', executionId, afterSeq: 0 });
    await socket.waitFor((m) => m.type === 'event' && m.event.type === 'approval.requested');

    const inbox = await stack.request('GET', '/api/v1/approvals?status=pending', { token: owner.token });
    const item = inbox.body.items.find((i: any) => i.executionId === executionId);
    expect(item).toMatchObject({ nodeId: 'review', title: 'Publish bees?', instructions: 'Check: Draft about bees', status: 'pending', canDecide: true, workflowName: 'Test workflow' });
    expect(item.context.nodes.draft.text).toBe('Draft about bees');

    const res = await decide(owner, executionId, 'review', { decision: 'approve', comment: 'ship it' });
    expect(res.status).toBe(200);
    expect(res.body.approval).toMatchObject({ status: 'approved', decisions: [{ decision: 'approve', comment: 'ship it', userId: owner.userId, by: 'user' }] });

    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual({ published: 'published Draft about bees ' });
    expect(nodeStatus(done)).toMatchObject({ review: 'succeeded', published: 'succeeded', discarded: 'skipped' });
    expect(done.nodes.find((n: any) => n.nodeId === 'review').output).toMatchObject({ decision: 'approved', comment: 'ship it', decidedBy: 'users' });
    await socket.waitFor((m) => m.type === 'event' && m.event.type === 'approval.decided');
    await socket.close();
  });

  it('reject runs only the rejected branch', async () => {
    const executionId = await startWaiting(owner);
    expect((await decide(owner, executionId, 'review', { decision: 'reject', comment: 'off-brand' })).status).toBe(200);
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.outputs).toEqual({ discarded: 'discarded: off-brand' });
    expect(nodeStatus(done)).toMatchObject({ published: 'skipped', discarded: 'succeeded' });
  });

  it('waits on two approvals in parallel branches at once', async () => {
    const workflowId = await createWorkflow(stack, owner, parallelApprovalsGraph());
    const executionId = await startRun(stack, owner, workflowId);
    const both = await waitForExecution(stack, owner, executionId, (e) => e.nodes.filter((n: any) => n.status === 'waiting').length === 2);
    expect(both.status).toBe('waiting');
    await decide(owner, executionId, 'finance', { decision: 'approve' });
    const half = await waitForExecution(stack, owner, executionId, (e) => nodeStatus(e).finance === 'succeeded');
    expect(half.status).toBe('waiting');
    await decide(owner, executionId, 'legal', { decision: 'approve' });
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.outputs).toEqual({ done: 'legal=approved finance=approved' });
  });
});

describe('timeouts', () => {
  it.each([
    ['approve', 'succeeded', { published: 'published Draft about bees ' }],
    ['reject', 'succeeded', { discarded: 'discarded: ' }],
  ])('onTimeout %s takes that branch by itself', async (onTimeout, status, outputs) => {
    const workflowId = await createWorkflow(stack, owner, reviewGraph({ timeoutSeconds: 2, onTimeout }));
    const executionId = await startRun(stack, owner, workflowId);
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe(status);
    expect(done.outputs).toEqual(outputs);
    expect(await eventTypes(owner, executionId)).toContain('approval.timed_out:review');
  });

  it('onTimeout fail ends the run as timed_out', async () => {
    const workflowId = await createWorkflow(stack, owner, reviewGraph({ timeoutSeconds: 2, onTimeout: 'fail' }));
    const executionId = await startRun(stack, owner, workflowId);
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.status).toBe('timed_out');
    expect(done.error).toMatchObject({ code: 'APPROVAL_TIMED_OUT', nodeId: 'review' });
    expect(nodeStatus(done)).toMatchObject({ review: 'failed', published: 'cancelled', discarded: 'cancelled' });
    const inbox = await stack.request('GET', `/api/v1/approvals?status=all&executionId=${executionId}`, { token: owner.token });
    expect(inbox.body.items[0].status).toBe('timed_out');
  });

  it('sends reminders while it waits', async () => {
    const executionId = await startWaiting(owner, { reminderSeconds: 1 });
    const reminders = async () => (await eventTypes(owner, executionId)).filter((t) => t === 'approval.reminded:review').length;
    await waitUntil('two reminders recorded', async () => (await reminders()) >= 2, { intervalMs: 250 });
    expect((await waitForExecution(stack, owner, executionId, () => true)).status).toBe('waiting');
    await decide(owner, executionId, 'review', { decision: 'approve' });
    expect((await waitForExecution(stack, owner, executionId)).status).toBe('succeeded');
  });
});

describe('quorum and forms', () => {
  it('needs two approvals from distinct users: the same user twice is refused', async () => {
    const executionId = await startWaiting(owner, { quorum: 2 });
    expect((await decide(owner, executionId, 'review', { decision: 'approve' })).body.approval.status).toBe('pending');
    const twice = await decide(owner, executionId, 'review', { decision: 'approve' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('ALREADY_DECIDED_BY_YOU');
    const still = await waitForExecution(stack, owner, executionId, () => true);
    expect(still.status).toBe('waiting');

    const editor = await addMember(stack, owner, 'editor');
    const second = await decide(editor, executionId, 'review', { decision: 'approve' });
    expect(second.status).toBe(200);
    expect(second.body.approval.status).toBe('approved');
    expect(second.body.approval.decisions.map((d: any) => d.userId)).toEqual([owner.userId, editor.userId]);
    expect((await waitForExecution(stack, owner, executionId)).status).toBe('succeeded');
  });

  it('validates form data and carries it downstream', async () => {
    const form = { note: { type: 'string', required: true, maxLength: 20 }, amount: { type: 'number', min: 1, max: 100 } };
    const executionId = await startWaiting(owner, { form });
    const before = await eventTypes(owner, executionId);
    for (const data of [{}, { note: 'x'.repeat(21) }, { note: 'ok', amount: 500 }, { note: 'ok', amount: 'five' }, { note: 'ok', extra: 1 }]) {
      const bad = await decide(owner, executionId, 'review', { decision: 'approve', data });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe('INVALID_FORM');
    }
    expect(await eventTypes(owner, executionId)).toEqual(before);
    const ok = await decide(owner, executionId, 'review', { decision: 'approve', data: { note: 'looks good', amount: 42 } });
    expect(ok.status).toBe(200);
    const done = await waitForExecution(stack, owner, executionId);
    expect(done.outputs).toEqual({ published: 'published Draft about bees looks good' });
    expect(done.nodes.find((n: any) => n.nodeId === 'review').output.data).toEqual({ note: 'looks good', amount: 42 });
  });
});

describe('refusals leave the run untouched', () => {
  let executionId: string;
  let before: string[];

  beforeAll(async () => {
    executionId = await startWaiting(owner, { assigneeRole: 'admin' });
    before = await eventTypes(owner, executionId);
  });

  afterAll(async () => {
    await decide(owner, executionId, 'review', { decision: 'reject' });
  });

  it('a viewer gets 403', async () => {
    const viewer = await addMember(stack, owner, 'viewer');
    expect((await decide(viewer, executionId, 'review', { decision: 'approve' })).status).toBe(403);
  });

  it('an editor gets 403 when the node names the admin role', async () => {
    const editor = await addMember(stack, owner, 'editor');
    const res = await decide(editor, executionId, 'review', { decision: 'approve' });
    expect(res.status).toBe(403);
    const inbox = await stack.request('GET', '/api/v1/approvals?actionable=true', { token: editor.token });
    expect(inbox.body.items.find((i: any) => i.executionId === executionId)).toBeUndefined();
  });

  it('another tenant gets 404', async () => {
    const other = await registerTenant(stack, 'Elsewhere');
    expect((await decide(other, executionId, 'review', { decision: 'approve' })).status).toBe(404);
    const inbox = await stack.request('GET', '/api/v1/approvals', { token: other.token });
    expect(inbox.body.items).toEqual([]);
  });

  it('a wrong node id gets 404', async () => {
    expect((await decide(owner, executionId, 'draft', { decision: 'approve' })).status).toBe(404);
    expect((await decide(owner, executionId, 'nope', { decision: 'approve' })).status).toBe(404);
  });

  it('a malformed decision gets 400', async () => {
    expect((await decide(owner, executionId, 'review', { decision: 'maybe' })).status).toBe(400);
  });

  it('none of them touched the run', async () => {
    expect(await eventTypes(owner, executionId)).toEqual(before);
    const e = await waitForExecution(stack, owner, executionId, () => true);
    expect(e.status).toBe('waiting');
  });
});

it('deciding twice answers 409 with the first decision', async () => {
  const executionId = await startWaiting(owner);
  await decide(owner, executionId, 'review', { decision: 'approve', comment: 'first' });
  const again = await decide(owner, executionId, 'review', { decision: 'reject', comment: 'second' });
  expect(again.status).toBe(409);
  expect(again.body.error.details.first).toMatchObject({ decision: 'approve', comment: 'first' });
  const done = await waitForExecution(stack, owner, executionId);
  expect(done.outputs).toHaveProperty('published');
});

it('an operator decides through the decision Signal; an invalid signal is recorded and ignored', async () => {
  const executionId = await startWaiting(owner);
  const e = await waitForExecution(stack, owner, executionId, () => true);
  const handle = stack.temporal.workflow.getHandle(e.temporal.workflowId);
  await handle.signal(DECISION_SIGNAL, { nodeId: 'nope', decision: 'approve' });
  await handle.signal(DECISION_SIGNAL, { nodeId: 'review', decision: 'approve', comment: 'from the CLI', operator: 'ops@example.com' });
  const done = await waitForExecution(stack, owner, executionId);
  expect(done.status).toBe('succeeded');
  expect(done.nodes.find((n: any) => n.nodeId === 'review').output).toMatchObject({ decision: 'approved', decidedBy: 'operator' });
  const types = await eventTypes(owner, executionId);
  expect(types).toContain('approval.ignored');
  expect(types).toContain('approval.decided:review');
  // Signals and updates are in the history: the current code must replay it without nondeterminism.
  await Worker.runReplayHistory({ workflowBundle: stack.workflowBundle, dataConverter: tesseraDataConverter(stack.payloadCodec) }, await handle.fetchHistory(), e.temporal.workflowId);
});

it('cancelling a waiting run ends the wait and records who cancelled it', async () => {
  const executionId = await startWaiting(owner);
  const res = await stack.request('POST', `/api/v1/executions/${executionId}/cancel`, { token: owner.token });
  expect(res.status).toBe(202);
  const done = await waitForExecution(stack, owner, executionId);
  expect(done.status).toBe('cancelled');
  expect(done.cancelledBy).toBe(`user:${owner.userId}`);
  // The run recorded its own end (the row was not left for the API to repair from Temporal's word).
  expect(done.error).toBeNull();
  const events = await stack.request('GET', `/api/v1/executions/${executionId}/events`, { token: owner.token });
  expect(events.body.events.map((e: { type: string }) => e.type).at(-1)).toBe('execution.cancelled');
  expect(nodeStatus(done)).toMatchObject({ review: 'cancelled' });
  const inbox = await stack.request('GET', `/api/v1/approvals?status=all&executionId=${executionId}`, { token: owner.token });
  expect(inbox.body.items[0].status).toBe('cancelled');
  expect((await decide(owner, executionId, 'review', { decision: 'approve' })).status).toBe(409);
});

it("streams every approval event and run end of the tenant to an inbox watcher, and none to another tenant's", async () => {
  const mine = await openSocket(stack.wsUrl, owner.token);
  const other = await registerTenant(stack, 'Watcher elsewhere');
  const theirs = await openSocket(stack.wsUrl, other.token);
  for (const s of [mine, theirs]) {
    s.send({ type: 'watch_approvals' });
    await s.waitFor((m) => m.type === 'watching_approvals');
  }
  const executionId = await startWaiting(owner);
  const requested = await mine.waitFor((m) => m.type === 'approval' && m.event.type === 'approval.requested' && m.event.executionId === executionId);
  expect(requested.event.nodeId).toBe('review');
  await decide(owner, executionId, 'review', { decision: 'approve' });
  await mine.waitFor((m) => m.type === 'approval' && m.event.type === 'approval.decided' && m.event.executionId === executionId);
  await mine.waitFor((m) => m.type === 'approval' && m.event.type === 'execution.succeeded' && m.event.executionId === executionId);
  // A run cancelled while it waits closes its approval without an approval event: its end reaches the inbox.
  const cancelled = await startWaiting(owner);
  await mine.waitFor((m) => m.type === 'approval' && m.event.type === 'approval.requested' && m.event.executionId === cancelled);
  expect((await stack.request('POST', `/api/v1/executions/${cancelled}/cancel`, { token: owner.token })).status).toBe(202);
  await mine.waitFor((m) => m.type === 'approval' && m.event.type === 'execution.cancelled' && m.event.executionId === cancelled);
  const relayed = mine.messages.filter((m) => m.type === 'approval').map((m) => m.event.type as string);
  expect(relayed.every((t) => t.startsWith('approval.') || ['execution.succeeded', 'execution.cancelled'].includes(t))).toBe(true);
  expect(relayed).not.toContain('node.waiting');
  expect(theirs.messages.filter((m) => m.type === 'approval')).toEqual([]);
  await mine.close();
  await theirs.close();
});
