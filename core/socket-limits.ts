// What one user, one tenant and one socket may open and send on the WebSocket (docs/security.md "WebSocket
// limits"): the settings, their defaults and the rules server/ws/socket-guard.ts applies. Pure: the caller brings
// the time, so the rules are tested without a clock.

/** At most `limit` messages per `windowSeconds` (WS_MESSAGES_PER_SOCKET); 0 turns the limit off. */
export interface MessageRate {
  limit: number;
  windowSeconds: number;
}

export interface SocketLimits {
  /** Open sockets of one user in one API process (WS_MAX_CONNECTIONS_PER_USER). */
  connectionsPerUser: number;
  /** Open sockets of one tenant in one API process (WS_MAX_CONNECTIONS_PER_TENANT). */
  connectionsPerTenant: number;
  messages: MessageRate;
}

/**
 * 20 sockets a user (a browser with many tabs), 200 a tenant; 100 messages a socket at once (the web app subscribes
 * to every run of a page when it opens), then 10 a second.
 */
export const DEFAULT_SOCKET_LIMITS: SocketLimits = {
  connectionsPerUser: 20,
  connectionsPerTenant: 200,
  messages: { limit: 100, windowSeconds: 10 },
};

/** The close code of a socket refused for too many connections (like HTTP 429; 4000–4999 are the application's). */
export const WS_CLOSE_TOO_MANY_CONNECTIONS = 4429;

/** Why a new socket is refused, or null when it may stay open; `open` counts the caller's sockets before it. */
export function connectionRefusal(limits: SocketLimits, open: { user: number; tenant: number }): string | null {
  if (open.user >= limits.connectionsPerUser) return `too many connections: at most ${limits.connectionsPerUser} per user (WS_MAX_CONNECTIONS_PER_USER)`;
  if (open.tenant >= limits.connectionsPerTenant) return `too many connections: at most ${limits.connectionsPerTenant} per tenant (WS_MAX_CONNECTIONS_PER_TENANT)`;
  return null;
}

/**
 * A token bucket: full at `limit` messages, refilled at `limit / windowSeconds` a second, one token a message. A
 * burst up to the limit goes through at once; a flood is held to the refill rate.
 */
export interface MessageBucket {
  tokens: number;
  atMs: number;
}

export function fullBucket(rate: MessageRate, nowMs: number): MessageBucket {
  return { tokens: rate.limit, atMs: nowMs };
}

/** Takes one message's token: whether the message is allowed, and the bucket after it. */
export function takeMessage(rate: MessageRate, bucket: MessageBucket, nowMs: number): { allowed: boolean; bucket: MessageBucket } {
  if (rate.limit === 0) return { allowed: true, bucket };
  const refilled = Math.min(rate.limit, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * (rate.limit / rate.windowSeconds));
  if (refilled < 1) return { allowed: false, bucket: { tokens: refilled, atMs: nowMs } };
  return { allowed: true, bucket: { tokens: refilled - 1, atMs: nowMs } };
}
