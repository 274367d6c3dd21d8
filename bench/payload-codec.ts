// What the Temporal payload codec (db/temporal-payload-codec.ts) costs per call: encode + decode of one
// payload of 1 KiB and of 1 MiB, as the worker and the API pay it on every activity, child and start.
// Usage: npx tsx bench/payload-codec.ts [rounds=200]. Prints one line per size.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { defaultPayloadConverter, type SerializationContext } from '@temporalio/common';
import { TenantPayloadCodec } from '../db/temporal-payload-codec';

const ROUNDS = Number(process.argv[2] ?? 200);
const context: SerializationContext = { type: 'workflow', namespace: 'default', workflowId: 'tenant/6f1c2a52-1111-4a4a-8a8a-000000000001/execution/bench' };

async function main(): Promise<void> {
  const codec = new TenantPayloadCodec({ current: randomBytes(32).toString('hex'), previous: [randomBytes(32).toString('hex')] });
  for (const [label, bytes] of [['1 KiB', 1024], ['1 MiB', 1024 * 1024]] as const) {
    // JSON text of that size, as an agent's output would be.
    const payload = defaultPayloadConverter.toPayload({ text: randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64').slice(0, bytes) });
    for (let i = 0; i < 20; i++) await codec.decode(await codec.encode([payload], context), context);
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = process.hrtime.bigint();
      const sealed = await codec.encode([payload], context);
      await codec.decode(sealed, context);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const p95 = times[Math.floor(times.length * 0.95)]!;
    console.log(`payload codec, ${label} (${payload.data!.length} bytes): encode+decode median ${median.toFixed(3)} ms, p95 ${p95.toFixed(3)} ms over ${ROUNDS} calls (load ${loadavg()[0]!.toFixed(2)})`);
  }
}

void main();
