// ProgressBuffer on its own: a small flush is one batch as before; a large one is split below the batch size,
// rows before events, so no recordProgress input comes near Temporal's 2 MiB payload limit.
import { jsonBytes } from '../core/limits';
import { PROGRESS_BATCH_BYTES, ProgressBuffer } from './progress-buffer';

type Batch = Parameters<ConstructorParameters<typeof ProgressBuffer>[0]>[0];

function recorder() {
  const batches: Batch[] = [];
  return { batches, buffer: new ProgressBuffer(async (b) => void batches.push(b)) };
}

test('a small flush is one batch with the execution update and approvals', async () => {
  const { batches, buffer } = recorder();
  buffer.node({ nodeId: 'a', status: 'succeeded', output: 'x' });
  buffer.event({ type: 'node.succeeded', nodeId: 'a', at: '2026-01-01T00:00:00.000Z', key: 'node:a:succeeded' });
  await buffer.flush({ status: 'succeeded' });
  expect(batches).toEqual([{ nodes: [{ nodeId: 'a', status: 'succeeded', output: 'x' }], events: [expect.objectContaining({ nodeId: 'a' })], execution: { status: 'succeeded' } }]);
  await buffer.flush();
  expect(batches).toHaveLength(1);
});

test('a large flush is split: node rows, then the execution row, then events, each batch within the limit', async () => {
  const { batches, buffer } = recorder();
  const output = 'y'.repeat(300 * 1024);
  for (const id of ['a', 'b', 'c', 'd']) {
    buffer.node({ nodeId: id, status: 'succeeded', output });
    buffer.event({ type: 'node.succeeded', nodeId: id, at: '2026-01-01T00:00:00.000Z', key: `node:${id}:succeeded` });
  }
  expect(buffer.full).toBe(true);
  const outputs = { out: 'z'.repeat(400 * 1024) };
  buffer.event({ type: 'execution.succeeded', at: '2026-01-01T00:00:00.000Z', data: { outputs }, key: 'execution:final' });
  await buffer.flush({ status: 'succeeded', outputs });
  expect(batches.map((b) => jsonBytes(b) <= PROGRESS_BATCH_BYTES + 1024)).not.toContain(false);
  expect(batches.flatMap((b) => b.nodes ?? []).map((n) => n.nodeId)).toEqual(['a', 'b', 'c', 'd']);
  const executionAt = batches.findIndex((b) => b.execution);
  const firstEvents = batches.findIndex((b) => b.events.length);
  expect(executionAt).toBeGreaterThan(batches.findLastIndex((b) => b.nodes?.length));
  expect(firstEvents).toBeGreaterThan(executionAt);
  expect(batches.flatMap((b) => b.events).map((e) => e.key)).toEqual(['node:a:succeeded', 'node:b:succeeded', 'node:c:succeeded', 'node:d:succeeded', 'execution:final']);
});
