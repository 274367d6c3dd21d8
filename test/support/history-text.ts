// A run's Temporal history as text a test can search: the history itself and every payload in it decrypted
// with the stack's codec (db/temporal-payload-codec.ts), each payload's data read as UTF-8. What a secret
// scan must look through, now that Temporal only holds ciphertext.
import type { Payload, PayloadCodec } from '@temporalio/common';

export async function readableHistory(codec: PayloadCodec, history: unknown): Promise<string> {
  const payloads: Payload[] = [];
  const collect = (v: unknown): void => {
    if (!v || typeof v !== 'object' || v instanceof Uint8Array) return;
    if ('metadata' in v && (v as Payload).data instanceof Uint8Array) payloads.push(v as Payload);
    else for (const item of Object.values(v)) collect(item);
  };
  collect(history);
  const decoded = (await codec.decode(payloads)).map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'));
  // Payload data comes base64-encoded (or as bytes): read every one, so a secret inside would be found.
  return JSON.stringify([history, decoded], (k, v: unknown) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    if (k === 'data' && typeof v === 'string') return Buffer.from(v, 'base64').toString('utf8');
    return v;
  });
}
