// The WebSocket hub at /api/v1/ws: authenticates the access token on upgrade and speaks the socket's
// protocol. A subscription joins the stream of a run or export of the caller's own tenant (channel-registry.ts
// resolves the id once per stream; event-stream.ts delivers in seq order with no gap, from memory where the
// events are in hand); watch_approvals joins the tenant's inbox feed (inbox-feed.ts).
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { WebSocketServer, WebSocket } from 'ws';
import { wsClientMessageSchema, type WsServerMessage } from '../../core/events';
import { isUuid } from '../../core/ids';
import type { ExecutionRepository, ExportRepository, TenantScope } from '../../db';
import type { Principal } from '../auth/principal';
import type { Invalidation } from '../cache/invalidation-bus';
import { createChannelRegistry } from './channel-registry';
import type { EventReader, StreamSink } from './event-stream';
import { createWriteCoalescer } from './write-coalescer';
import { createInboxFeed, type InboxWatcher } from './inbox-feed';
import { DEFAULT_SOCKET_LIMITS, WS_CLOSE_TOO_MANY_CONNECTIONS, type SocketLimits } from '../../core/socket-limits';
import { createSocketGuard } from './socket-guard';

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
  /** Sockets per user and tenant, messages per socket (config WS_*; DEFAULT_SOCKET_LIMITS when absent). */
  limits?: SocketLimits;
  /**
   * Membership changes from every API process (the invalidation bus): a socket whose user was removed, whose
   * tenant was deleted or whose session was ended by logout is closed at once rather than streaming on until it
   * reconnects.
   */
  revocations?: {
    bus: { on(listener: (change: Invalidation) => void): void };
    /** Whether the socket's user is still a member of its tenant (read after the change reached the caches). */
    stillMember(principal: Principal): Promise<boolean>;
  };
}

/** The close code a socket gets when its user's access ended (like HTTP 401; 4000–4999 are the application's). */
export const WS_CLOSE_ACCESS_ENDED = 4401;

const MAX_SUBSCRIPTIONS_PER_SOCKET = 100;

export interface WsHub {
  close(): Promise<void>;
  clientCount(): number;
  /** Runs and exports with a stream open in this process. */
  channelCount(): number;
}

/** One per process: it only holds the sockets corked in the current turn of the event loop. */
const writes = createWriteCoalescer();

function sendRaw(ws: WebSocket, raw: string): void {
  if (ws.readyState === WebSocket.OPEN) writes.send(ws, raw);
}

function send(ws: WebSocket, message: WsServerMessage): void {
  sendRaw(ws, JSON.stringify(message));
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

export function createWsHub(deps: WsHubDeps): WsHub {
  const { logger } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sinkSockets = new WeakMap<StreamSink, WebSocket>();
  const channels = createChannelRegistry({
    subscriber: deps.subscriber,
    logger,
    // Scoped to the caller's tenant: another tenant's execution or export id is simply not found.
    resolve: (tenantId, id) =>
      deps.scope.run(tenantId, async () => {
        const read = (source: 'execution' | 'export'): EventReader => (after, limit) =>
          deps.scope.run(tenantId, () => (source === 'export' && deps.exports ? deps.exports.events(id, after, limit) : deps.executions.events(id, after, limit)));
        if (await deps.executions.find(id)) return { read: read('execution') };
        if (deps.exports && (await deps.exports.find(id))) return { read: read('export') };
        return null;
      }),
    onDeliveryFailure: (sinks, id) => {
      for (const sink of sinks) {
        const ws = sinkSockets.get(sink);
        if (ws) send(ws, { type: 'error', code: 'DELIVERY_FAILED', message: 'could not read events; resubscribe', executionId: id });
      }
    },
  });
  const inbox = createInboxFeed(deps.subscriber);
  const principals = new Map<WebSocket, Principal>();
  const guard = createSocketGuard(deps.limits ?? DEFAULT_SOCKET_LIMITS);

  const endAccess = (ws: WebSocket, reason: string) => {
    principals.delete(ws);
    ws.close(WS_CLOSE_ACCESS_ENDED, reason);
  };
  const revocations = deps.revocations;
  revocations?.bus.on((change) => {
    if (change.kind === 'tenant') {
      for (const [ws, p] of principals) if (p.tenantId === change.tenantId) endAccess(ws, 'the tenant was deleted');
    } else if (change.kind === 'session') {
      const ended = new Set(change.sessionIds);
      for (const [ws, p] of principals) if (p.sessionId && ended.has(p.sessionId)) endAccess(ws, 'you signed out');
    } else if (change.kind === 'member') {
      for (const [ws, p] of principals) {
        if (p.userId !== change.userId) continue;
        revocations.stillMember(p).then(
          (member) => {
            if (!member) endAccess(ws, 'your membership of this tenant ended');
          },
          (err: unknown) => logger.warn({ err, userId: p.userId }, 'ws: could not recheck a membership'),
        );
      }
    }
  });

  function onConnection(ws: WebSocket, principal: Principal): void {
    const { tenantId } = principal;
    const admitted = guard.admit(principal);
    if (!admitted.ok) {
      send(ws, { type: 'error', code: 'TOO_MANY_CONNECTIONS', message: admitted.reason });
      ws.close(WS_CLOSE_TOO_MANY_CONNECTIONS, admitted.reason);
      return;
    }
    /** Set while messages are refused, so a flood gets one RATE_LIMITED answer, not one per message. */
    let throttled = false;
    principals.set(ws, principal);
    /** This socket's subscriptions by id; a subscribe in flight holds its place so a second one waits its turn. */
    const subscriptions = new Map<string, StreamSink>();
    const watcher: InboxWatcher = { send: (raw) => sendRaw(ws, raw) };
    const log = logger.child({ tenantId, userId: principal.userId });
    let closed = false;

    const unsubscribe = async (id: string) => {
      const sink = subscriptions.get(id);
      if (!sink) return;
      subscriptions.delete(id);
      await channels.unsubscribe(tenantId, id, sink);
    };

    async function subscribe(executionId: string, afterSeq: number): Promise<void> {
      const notFound = () => send(ws, { type: 'error', code: 'NOT_FOUND', message: `execution ${executionId} not found`, executionId });
      if (!isUuid(executionId)) return notFound();
      const id = executionId.toLowerCase();
      if (subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SOCKET && !subscriptions.has(id)) {
        send(ws, { type: 'error', code: 'TOO_MANY_SUBSCRIPTIONS', message: `at most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions per socket`, executionId });
        return;
      }
      await unsubscribe(id);
      const sink: StreamSink = { lastSent: afterSeq, send: (raw) => sendRaw(ws, raw) };
      sinkSockets.set(sink, ws);
      subscriptions.set(id, sink);
      const joined = await channels.subscribe(tenantId, id, sink).catch((err: unknown) => {
        if (subscriptions.get(id) === sink) subscriptions.delete(id);
        throw err;
      });
      if (!joined) {
        if (subscriptions.get(id) === sink) subscriptions.delete(id);
        return notFound();
      }
      // The socket closed (or resubscribed) while the stream caught it up: let go of what it joined.
      if (closed || subscriptions.get(id) !== sink) {
        await channels.unsubscribe(tenantId, id, sink);
        return;
      }
      send(ws, { type: 'subscribed', executionId: id, lastSeq: joined.lastSeq });
    }

    ws.on('message', (data) => {
      if (!admitted.messages.allow()) {
        if (!throttled) {
          const { limit, windowSeconds } = (deps.limits ?? DEFAULT_SOCKET_LIMITS).messages;
          send(ws, { type: 'error', code: 'RATE_LIMITED', message: `too many messages: at most ${limit} per ${windowSeconds} s on a socket (WS_MESSAGES_PER_SOCKET); messages are dropped until then` });
        }
        throttled = true;
        return;
      }
      throttled = false;
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
        void inbox.watch(tenantId, watcher).then(
          () => send(ws, { type: 'watching_approvals' }),
          (err: unknown) => {
            log.warn({ err }, 'watch_approvals failed');
            send(ws, { type: 'error', code: 'SUBSCRIBE_FAILED', message: 'could not watch approvals; try again' });
          },
        );
        return;
      }
      if (msg.type === 'unsubscribe') {
        void unsubscribe(msg.executionId.toLowerCase());
        send(ws, { type: 'unsubscribed', executionId: msg.executionId });
        return;
      }
      const { executionId, afterSeq } = msg;
      subscribe(executionId, afterSeq).catch((err: unknown) => {
        log.warn({ err, executionId }, 'subscribe failed');
        send(ws, { type: 'error', code: 'SUBSCRIBE_FAILED', message: 'could not subscribe; try again', executionId });
      });
    });

    ws.on('close', () => {
      closed = true;
      guard.release(principal);
      principals.delete(ws);
      void inbox.unwatch(tenantId, watcher);
      for (const id of [...subscriptions.keys()]) void unsubscribe(id);
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
    channelCount: () => channels.channelCount(),
    async close() {
      deps.server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await channels.close();
      await inbox.close();
    },
  };
}
