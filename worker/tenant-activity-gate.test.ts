// The per-tenant activity gate on its own: the cap, other tenants passing, arrival order, and cancellation while
// waiting (the task never runs) against cancellation once running (the task answers it). The worker around it
// is covered by test/fair-share-worker.test.ts.
import { TenantActivityGate } from './tenant-activity-gate';

interface Held {
  release(value?: string): void;
  promise: Promise<string>;
}

function held(): Held {
  let release!: (value?: string) => void;
  const promise = new Promise<string>((resolve) => {
    release = (value = 'done') => resolve(value);
  });
  return { release, promise };
}

const never = new Promise<never>(() => {});
const ticks = () => new Promise((resolve) => setImmediate(resolve));

describe('TenantActivityGate', () => {
  it("runs at most the cap of one tenant's tasks, in arrival order, while another tenant's go straight through", async () => {
    const gate = new TenantActivityGate(2);
    const started: string[] = [];
    const tasks = ['a1', 'a2', 'a3', 'a4'].map((name) => ({ name, held: held() }));
    const results = tasks.map((t) =>
      gate.run('a', () => {
        started.push(t.name);
        return t.held.promise;
      }, never),
    );
    await ticks();
    expect(started).toEqual(['a1', 'a2']);
    expect(gate.load('a')).toEqual({ running: 2, waiting: 2 });
    expect(gate.full('a')).toBe(true);
    expect(gate.full('b')).toBe(false);

    const other = held();
    const b = gate.run('b', () => {
      started.push('b1');
      return other.promise;
    }, never);
    await ticks();
    expect(started).toEqual(['a1', 'a2', 'b1']);
    other.release('b');
    await expect(b).resolves.toBe('b');

    tasks[1]!.held.release('second');
    await expect(results[1]).resolves.toBe('second');
    await ticks();
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);
    for (const t of tasks) t.held.release(t.name);
    await expect(Promise.all(results)).resolves.toEqual(['a1', 'second', 'a3', 'a4']);
    expect(gate.load('a')).toEqual({ running: 0, waiting: 0 });
  });

  it('a task cancelled while it waits ends at once with the cancellation and never runs', async () => {
    const gate = new TenantActivityGate(1);
    const first = held();
    const running = gate.run('a', () => first.promise, never);
    let cancel!: (error: Error) => void;
    const cancelled = new Promise<never>((_, reject) => {
      cancel = reject;
    });
    let ran = false;
    const waiting = gate.run('a', async () => {
      ran = true;
      return 'ran';
    }, cancelled);
    await ticks();
    cancel(new Error('cancelled by Temporal'));
    await expect(waiting).rejects.toThrow('cancelled by Temporal');
    first.release();
    await running;
    await ticks();
    expect(ran).toBe(false);
    expect(gate.load('a')).toEqual({ running: 0, waiting: 0 });
  });

  it('a task cancelled once it runs answers the cancellation itself', async () => {
    const gate = new TenantActivityGate(1);
    let cancel!: (error: Error) => void;
    const cancelled = new Promise<never>((_, reject) => {
      cancel = reject;
    });
    const task = held();
    const result = gate.run('a', () => task.promise, cancelled);
    await ticks();
    cancel(new Error('cancelled by Temporal'));
    await ticks();
    task.release('cleaned up and answered');
    await expect(result).resolves.toBe('cleaned up and answered');
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => new TenantActivityGate(0)).toThrow(/positive integer/);
  });
});
