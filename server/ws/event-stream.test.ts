import type { ExecutionEvent } from '../../core/events';
import { createEventStream, type StreamSink } from './event-stream';

const ev = (seq: number): ExecutionEvent => ({ seq, executionId: 'run', type: 'node.started', nodeId: `n${seq}`, at: new Date(seq * 1000).toISOString() });

/** A stored log of `count` events, counting its reads. */
function storedLog(count: number) {
  const log = { events: Array.from({ length: count }, (_, i) => ev(i + 1)), reads: 0 };
  const read = async (after: number, limit: number) => {
    log.reads++;
    return log.events.filter((e) => e.seq > after).slice(0, limit);
  };
  return { log, read };
}

function sink(afterSeq = 0): StreamSink & { seqs: number[] } {
  const s = {
    seqs: [] as number[],
    lastSent: afterSeq,
    send(raw: string) {
      s.seqs.push((JSON.parse(raw) as { event: ExecutionEvent }).event.seq);
    },
  };
  return s;
}

const settle = () => new Promise((r) => setImmediate(r));

describe('an event stream (ordered delivery of one run to many sockets)', () => {
  it('reads the stored log once, however many sinks join, and catches each up from memory', async () => {
    const { log, read } = storedLog(3);
    const stream = createEventStream(read, () => undefined);
    const sinks = Array.from({ length: 100 }, () => sink());
    const seqs = await Promise.all(sinks.map((s) => stream.join(s)));
    expect(seqs.every((s) => s === 3)).toBe(true);
    expect(sinks.every((s) => s.seqs.join() === '1,2,3')).toBe(true);
    expect(log.reads).toBe(1);
    const late = sink(2);
    expect(await stream.join(late)).toBe(3);
    expect(late.seqs).toEqual([3]);
    expect(log.reads).toBe(1);
  });

  it('delivers live events in order to every sink without reading, and ignores ones it has', async () => {
    const { log, read } = storedLog(1);
    const stream = createEventStream(read, () => undefined);
    const a = sink();
    const b = sink(1);
    await stream.join(a);
    await stream.join(b);
    log.events.push(ev(2), ev(3));
    stream.offer(ev(2));
    stream.offer(ev(2));
    stream.offer(ev(3));
    await settle();
    expect(a.seqs).toEqual([1, 2, 3]);
    expect(b.seqs).toEqual([2, 3]);
    expect(log.reads).toBe(1);
  });

  it('fills a gap from the stored log once when a live event skips ahead (out-of-order publishes)', async () => {
    const { log, read } = storedLog(1);
    const stream = createEventStream(read, () => undefined);
    const sinks = [sink(), sink(), sink()];
    for (const s of sinks) await stream.join(s);
    log.events.push(ev(2), ev(3), ev(4));
    stream.offer(ev(4));
    stream.offer(ev(2));
    stream.offer(ev(3));
    await settle();
    await settle();
    for (const s of sinks) expect(s.seqs).toEqual([1, 2, 3, 4]);
    expect(log.reads).toBe(2);
  });

  it('holds live events that arrive before its first read and delivers them after, in order', async () => {
    const { log, read } = storedLog(2);
    const stream = createEventStream(read, () => undefined);
    log.events.push(ev(3));
    stream.offer(ev(3));
    const s = sink();
    await stream.join(s);
    expect(s.seqs).toEqual([1, 2, 3]);
  });

  it('replays from the database a sink older than its memory', async () => {
    const { read } = storedLog(50);
    const stream = createEventStream(read, () => undefined, 10);
    await stream.join(sink(49));
    const old = sink(5);
    expect(await stream.join(old)).toBe(50);
    expect(old.seqs).toEqual(Array.from({ length: 45 }, (_, i) => i + 6));
  });

  it('a failed read rejects that join and leaves the stream usable', async () => {
    let fail = true;
    const stream = createEventStream(async () => {
      if (fail) throw new Error('database down');
      return [ev(1)];
    }, () => undefined);
    await expect(stream.join(sink())).rejects.toThrow('database down');
    fail = false;
    const s = sink();
    expect(await stream.join(s)).toBe(1);
    expect(stream.size()).toBe(1);
  });
});
