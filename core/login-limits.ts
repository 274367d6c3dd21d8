// What signing in may cost and how wrong passwords are slowed (server/auth/login-throttle.ts, kdf-queue.ts):
// the settings and their defaults, read by core/config.ts from LOGIN_*.

export interface LoginThrottleSettings {
  /** Failures of one email from one client answered without delay. */
  freeFailures: number;
  /** The longest wait between two attempts of one email from one client (the delays double up to it). */
  maxDelaySeconds: number;
  /** Failures of one email from all clients within `windowSeconds` before every client must wait; 0 turns it off. */
  failuresPerEmail: number;
  /** How long failures are remembered. */
  windowSeconds: number;
}

/** NIST SP 800-63B §5.2.2 asks for at most 100 consecutive failures per account; the delays keep one client far below. */
export const DEFAULT_LOGIN_THROTTLE: LoginThrottleSettings = { freeFailures: 5, maxDelaySeconds: 900, failuresPerEmail: 100, windowSeconds: 3600 };

export interface KdfQueueSettings {
  /** Hashes computed at once (each takes a libuv thread; the pool has four). */
  concurrency: number;
  /** Hashes waiting for a free slot; past that, 429. */
  queue: number;
  /** One client's hashes running or waiting; past that, 429 for that client only. */
  perClient: number;
}

/**
 * One client holds one slot, so a flood from one address leaves the other slot to everyone else; eight waiting bound
 * the wait of an admitted login to five hashes.
 */
export const DEFAULT_KDF_QUEUE: KdfQueueSettings = { concurrency: 2, queue: 8, perClient: 1 };
