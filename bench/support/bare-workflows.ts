// Hand-written workflows, the bare-Temporal yardstick of bench/overhead.ts and bench/throughput.ts: what a
// developer writes without Tessera (no progress rows, no events, no plan), on the same dev server.
import { proxyActivities } from '@temporalio/workflow';
import type { BareActivities } from './bare-worker';

const { noop } = proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute' });

/** `count` no-op activities one after another (the peer of an echo chain). */
export async function bareChain(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await noop(i);
}
