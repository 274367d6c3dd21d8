// The WebSocket hub at /api/v1/ws: authenticates the access token on upgrade, lets a client subscribe to
// executions of its own tenant, replays stored events after `afterSeq`, then relays live ones from Redis.
// Events reach a client in seq order with no gap: a live event that skips ahead triggers a replay from
// the database first (parallel activities may publish out of order).
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { WebSocketServer, WebSocket } from 'ws';
import { executionEventSchema, executionChannel, tenantExecutionPattern, wsClientMessageSchema, type ExecutionEvent, type WsServerMessage } from '../../core/events';
import type { ExecutionRepository, ExportRepository, TenantScope } from '../../db';
import type { Principal } from '../auth/principal';

export interface WsHubDeps {
  server: Server;
  path: string;
  verifyToken: (token: string) => Promise<Principal> | Principal;
  subscriber: Redis;
  scope: TenantScope;
  executions: ExecutionRepository;
  /** Exports publish their events the same way (docs/export.md): a subscription may name an export id. */
  exports?: ExportRepository;
  logger: Logger;
}

interface Subscription {
  ws: WebSocket;
  principal: Principal;
  executionId: string;
  channel: string;
  lastSent: number;
  /** Serialises replays and live sends of one subscription. */
  chain: Promise<void>;
  /** Where the stored events of the subscribed id live. */
  source: 'execution' | 'export';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_SUBSCRIPTIONS_PER_SOCKET = 100;

export interface WsHub {
  close(): Promise<void>;
  clientCount(): number;
}

function send(ws: WebSocket, message: WsServerMessage): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function rejectUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  // The client may be gone already (it reset the connection while its token was checked).
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * What an inbox watcher hears: every approval event, and every end of a run, since a run that ends while it
 * waits (cancelled, failed elsewhere) closes its open approvals without an approval event.
 */
const INBOX_EVENT = /^(approval\.|execution\.(succeeded|failed|cancelled)$)/;

export function createWsHub(deps: WsHubDeps): WsHub {
  const { logger } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const byChannel = new Map<string, Set<Subscription>>();

  async function replay(sub: Subscription): Promise<void> {
    for (;;) {
      const events = await deps.scope.run(sub.principal.tenantId, () =>
        sub.source === 'export' && deps.exports ? deps.exports.events(sub.executionId, sub.lastSent, 500) : deps.executions.events(sub.executionId, sub.lastSent, 500),
      );
      for (const event of events) deliver(sub, event);
      if (events.length < 500) return;
    }
  }

  function deliver(sub: Subscription, event: ExecutionEvent): void {
    if (event.seq !== sub.lastSent + 1) return;
    sub.lastSent = event.seq;
    send(sub.ws, { type: 'event', event });
  }

  function enqueue(sub: Subscription, work: () => Promise<void>): void {
    sub.chain = sub.chain.then(work).catch((err: unknown) => {
      logger.warn({ err, executionId: sub.executionId, tenantId: sub.principal.tenantId }, 'ws delivery failed');
      send(sub.ws, { type: 'error', code: 'DELIVERY_FAILED', message: 'could not read events; resubscribe', executionId: sub.executionId });
    });
  }

  deps.subscriber.on('message', (channel: string, raw: string) => {
    const subs = byChannel.get(channel);
    if (!subs?.size) return;
    let event: ExecutionEvent;
    try {
      event = executionEventSchema.parse(JSON.parse(raw));
    } catch (err) {
      logger.warn({ err, channel }, 'ignoring a malformed event on redis');
      return;
    }
    for (const sub of subs) {
      enqueue(sub, async () => {
        if (event.seq <= sub.lastSent) return;
        if (event.seq === sub.lastSent + 1) deliver(sub, event);
        else await replay(sub);
      });
    }
  });

  // Approval watchers per tenant, fed by one pattern subscription per tenant that has any.
  const approvalWatchers = new Map<string, Set<WebSocket>>();

  deps.subscriber.on('pmessage', (pattern: string, _channel: string, raw: string) => {
    const tenantId = pattern.split(':')[1] ?? '';
    const watchers = approvalWatchers.get(tenantId);
    if (!watchers?.size) return;
    let event: ExecutionEvent;
    try {
      event = executionEventSchema.parse(JSON.parse(raw));
    } catch {
      return;
    }
    if (!INBOX_EVENT.test(event.type)) return;
    for (const ws of watchers) send(ws, { type: 'approval', event });
  });

  async function watchApprovals(tenantId: string, ws: WebSocket): Promise<void> {
    let watchers = approvalWatchers.get(tenantId);
    if (!watchers) {
      watchers = new Set();
      approvalWatchers.set(tenantId, watchers);
      await deps.subscriber.psubscribe(tenantExecutionPattern(tenantId));
    }
    watchers.add(ws);
  }

  async function unwatchApprovals(tenantId: string, ws: WebSocket): Promise<void> {
    const watchers = approvalWatchers.get(tenantId);
    if (!watchers?.delete(ws) || watchers.size) return;
    approvalWatchers.delete(tenantId);
    await deps.subscriber.punsubscribe(tenantExecutionPattern(tenantId)).catch(() => undefined);
  }

  async function addChannel(sub: Subscription): Promise<void> {
    let subs = byChannel.get(sub.channel);
    if (!subs) {
      subs = new Set();
      byChannel.set(sub.channel, subs);
      await deps.subscriber.subscribe(sub.channel);
    }
    subs.add(sub);
  }

  async function removeSubscription(sub: Subscription): Promise<void> {
    const subs = byChannel.get(sub.channel);
    if (!subs) return;
    subs.delete(sub);
    if (!subs.size) {
      byChannel.delete(sub.channel);
      await deps.subscriber.unsubscribe(sub.channel).catch(() => undefined);
    }
  }

  function onConnection(ws: WebSocket, principal: Principal): void {
    const subscriptions = new Map<string, Subscription>();
    const log = logger.child({ tenantId: principal.tenantId, userId: principal.userId });

    ws.on('message', (data) => {
      let msg;
      try {
        msg = wsClientMessageSchema.parse(JSON.parse(data.toString()));
      } catch {
        send(ws, { type: 'error', code: 'BAD_MESSAGE', message: 'expected {type: "subscribe", executionId, afterSeq} or {type: "unsubscribe", executionId}' });
        return;
      }
      if (msg.type === 'ping') {
        send(ws, { type: 'pong' });
        return;
      }
      if (msg.type === 'watch_approvals') {
        void watchApprovals(principal.tenantId, ws).then(
          () => send(ws, { type: 'watching_approvals' }),
          (err: unknown) => {
            log.warn({ err }, 'watch_approvals failed');
            send(ws, { type: 'error', code: 'SUBSCRIBE_FAILED', message: 'could not watch approvals; try again' });
          },
        );
        return;
      }
      if (msg.type === 'unsubscribe') {
        const sub = subscriptions.get(msg.executionId);
        if (sub) {
          subscriptions.delete(msg.executionId);
          void removeSubscription(sub);
        }
        send(ws, { type: 'unsubscribed', executionId: msg.executionId });
        return;
      }
      const { executionId, afterSeq } = msg;
      void (async () => {
        const notFound = () => send(ws, { type: 'error', code: 'NOT_FOUND', message: `execution ${executionId} not found`, executionId });
        if (!UUID.test(executionId)) return notFound();
        if (subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SOCKET && !subscriptions.has(executionId.toLowerCase())) {
          send(ws, { type: 'error', code: 'TOO_MANY_SUBSCRIPTIONS', message: `at most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions per socket`, executionId });
          return;
        }
        const id = executionId.toLowerCase();
        // Scoped to the caller's tenant: another tenant's execution or export id is simply not found.
        const source = await deps.scope.run(principal.tenantId, async () => {
          if (await deps.executions.find(id)) return 'execution' as const;
          if (deps.exports && (await deps.exports.find(id))) return 'export' as const;
          return null;
        });
        if (!source) return notFound();
        const previous = subscriptions.get(id);
        if (previous) await removeSubscription(previous);
        const sub: Subscription = {
          ws,
          principal,
          executionId: id,
          source,
          channel: executionChannel(principal.tenantId, id),
          lastSent: afterSeq,
          chain: Promise.resolve(),
        };
        subscriptions.set(id, sub);
        // Subscribe to live events before reading stored ones, so nothing falls between the two.
        await addChannel(sub);
        enqueue(sub, async () => {
          await replay(sub);
          send(ws, { type: 'subscribed', executionId: id, lastSeq: sub.lastSent });
        });
      })().catch((err: unknown) => {
        log.warn({ err, executionId }, 'subscribe failed');
        send(ws, { type: 'error', code: 'SUBSCRIBE_FAILED', message: 'could not subscribe; try again', executionId });
      });
    });

    ws.on('close', () => {
      void unwatchApprovals(principal.tenantId, ws);
      for (const sub of subscriptions.values()) void removeSubscription(sub);
      subscriptions.clear();
    });
    ws.on('error', (err) => log.debug({ err }, 'ws error'));
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node's HTTP server drops its own 'error' listener from a socket it hands over for an upgrade: until ws
    // takes the socket, a client that resets it (while its token is checked) would raise an unhandled error.
    const onSocketError = (err: Error) => logger.debug({ err }, 'ws upgrade socket error');
    socket.on('error', onSocketError);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      // A request target that is no URL at all (`GET //[`): the client's mistake, not the process's end.
      return rejectUpgrade(socket, 400, 'BAD_REQUEST', 'the request target is not a valid URL');
    }
    if (url.pathname !== deps.path) return rejectUpgrade(socket, 404, 'ROUTE_NOT_FOUND', 'no WebSocket endpoint here');
    const token = url.searchParams.get('token') ?? '';
    void Promise.resolve()
      .then(() => deps.verifyToken(token))
      .then(
        (principal) => {
          socket.off('error', onSocketError);
          wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, principal));
        },
        () => rejectUpgrade(socket, 401, 'UNAUTHORIZED', 'a valid access token is required (?token=)'),
      )
      .catch((err: unknown) => {
        logger.error({ err }, 'ws upgrade failed');
        socket.destroy();
      });
  };
  deps.server.on('upgrade', onUpgrade);

  return {
    clientCount: () => wss.clients.size,
    async close() {
      deps.server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      const channels = [...byChannel.keys()];
      byChannel.clear();
      if (channels.length) await deps.subscriber.unsubscribe(...channels).catch(() => undefined);
      const patterns = [...approvalWatchers.keys()].map(tenantExecutionPattern);
      approvalWatchers.clear();
      if (patterns.length) await deps.subscriber.punsubscribe(...patterns).catch(() => undefined);
    },
  };
}
