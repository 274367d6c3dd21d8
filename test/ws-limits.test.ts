// WebSocket limits (issue 14 item 4; the probe had 300 sockets of one user accepted and 2,000 subscribes made
// 2,000 database transactions in 3.8 s): the socket past WS_MAX_CONNECTIONS_PER_USER is closed with 4429 and a
// readable reason while the tenant's other users still connect, and a flood of messages is held to the socket's
// budget (WS_MESSAGES_PER_SOCKET: 100 at once, then 10 a second), a streak of dropped messages answered once.
import { randomUUID } from 'node:crypto';
import { DEFAULT_SOCKET_LIMITS, WS_CLOSE_TOO_MANY_CONNECTIONS } from '../core/socket-limits';
import { addMember, registerTenant, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { openSocket, type TestSocket } from './support/ws-client';
import { waitUntil } from './support/wait-until';

jest.setTimeout(120_000);

let stack: TestStack;
let owner: TestSession;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  owner = await registerTenant(stack);
});

afterAll(async () => {
  await stack?.close();
});

it('closes the socket past the per-user limit with 4429 and says why; another user of the tenant still connects', async () => {
  const limit = DEFAULT_SOCKET_LIMITS.connectionsPerUser;
  const open: TestSocket[] = [];
  try {
    for (let i = 0; i < limit; i += 1) open.push(await openSocket(stack.wsUrl, owner.token));
    const extra = await openSocket(stack.wsUrl, owner.token);
    const refused = await extra.waitFor((m) => m.type === 'error');
    const ended = await extra.ended;
    console.log(`ws connections: ${limit} accepted, the next closed ${ended.code} "${ended.reason}"`);
    expect(refused).toMatchObject({ code: 'TOO_MANY_CONNECTIONS' });
    expect(ended.code).toBe(WS_CLOSE_TOO_MANY_CONNECTIONS);
    expect(ended.reason).toMatch(/at most 20 per user/);

    const colleague = await addMember(stack, owner, 'viewer');
    const theirs = await openSocket(stack.wsUrl, colleague.token);
    theirs.send({ type: 'ping' });
    await theirs.waitFor((m) => m.type === 'pong');
    await theirs.close();

    // A socket closed frees its place.
    await open.pop()!.close();
    const again = await openSocket(stack.wsUrl, owner.token);
    again.send({ type: 'ping' });
    await again.waitFor((m) => m.type === 'pong');
    open.push(again);
  } finally {
    for (const s of open) await s.close();
  }
});

it('holds a flood of 2,000 subscribes to the socket budget and answers each throttled streak once with RATE_LIMITED', async () => {
  const socket = await openSocket(stack.wsUrl, owner.token);
  const ids = new Set(Array.from({ length: 2000 }, () => randomUUID()));
  const t0 = Date.now();
  for (const executionId of ids) socket.send({ type: 'subscribe', executionId, afterSeq: 0 });
  await socket.waitFor((m) => m.type === 'error' && m.code === 'RATE_LIMITED');
  // Once the budget refills a little, a last subscribe goes through: every allowed subscribe before it is answered.
  const sentinel = randomUUID();
  await waitUntil('the socket takes messages again', async () => {
    socket.send({ type: 'subscribe', executionId: sentinel, afterSeq: 0 });
    return socket.messages.some((m) => m.type === 'error' && m.code === 'NOT_FOUND' && m.executionId === sentinel);
  }, { intervalMs: 200 });
  const seconds = (Date.now() - t0) / 1000;
  const answered = socket.messages.filter((m) => m.type === 'error' && m.code === 'NOT_FOUND' && ids.has(m.executionId)).length;
  const rateLimited = socket.messages.filter((m) => m.code === 'RATE_LIMITED').length;
  const { limit, windowSeconds } = DEFAULT_SOCKET_LIMITS.messages;
  console.log(`ws flood: 2000 subscribes, ${answered} looked up (${seconds.toFixed(2)} s), ${rateLimited} RATE_LIMITED answer(s)`);
  expect(answered).toBeGreaterThanOrEqual(limit);
  expect(answered).toBeLessThanOrEqual(limit + Math.ceil((seconds * limit) / windowSeconds));
  expect(rateLimited).toBeGreaterThanOrEqual(1);
  // One answer per streak of dropped messages (a refilled token ends a streak), never one per dropped message.
  expect(rateLimited).toBeLessThanOrEqual(1 + Math.ceil((seconds * limit) / windowSeconds));
  await socket.close();
});
