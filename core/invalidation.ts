// What the API processes may hold in memory and be told to forget (server/cache/invalidation-bus.ts carries it):
// the channel and the message shapes, here so that the worker, which purges runs past retention, can say so too.
import { z } from 'zod';

export const INVALIDATION_CHANNEL = 'tessera:invalidate';

/** Most execution ids one `runs` message names (a purge batch names fewer). */
export const INVALIDATED_RUNS_MAX = 10_000;

export const invalidationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('member'), userId: z.string() }),
  z.object({ kind: z.literal('workflow'), tenantId: z.string(), workflowId: z.string() }),
  z.object({ kind: z.literal('tenant'), tenantId: z.string() }),
  // Sessions ended by logout (server/auth/session-revocations.ts): their access tokens and sockets end too.
  z.object({ kind: z.literal('session'), sessionIds: z.array(z.string()).max(10_000) }),
  // Runs removed by retention (core/retention.ts): a cache must not answer for them any more.
  z.object({ kind: z.literal('runs'), tenantId: z.string(), executionIds: z.array(z.string()).max(INVALIDATED_RUNS_MAX) }),
]);
export type Invalidation = z.infer<typeof invalidationSchema>;
