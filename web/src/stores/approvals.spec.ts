// The inbox badge's reading of the pending list: overlapping refreshes leave the newest answer.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import type { ApprovalView } from '../api/types';
import { useApprovalsStore } from './approvals';

const api = vi.hoisted(() => ({ answers: [] as Promise<unknown>[] }));
vi.mock('../api/client', () => ({
  apiRequest: () => api.answers.shift(),
  bindSession: () => undefined,
  describeError: String,
}));

function later<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('useApprovalsStore', () => {
  beforeEach(() => setActivePinia(createPinia()));

  test('a refresh read before an approval closed, answering after a newer one, does not bring it back', async () => {
    const approvals = useApprovalsStore();
    const older = later<{ items: ApprovalView[] }>();
    const newer = later<{ items: ApprovalView[] }>();
    api.answers.push(older.promise, newer.promise);
    const first = approvals.refresh();
    const second = approvals.refresh();
    newer.resolve({ items: [] });
    await second;
    older.resolve({ items: [{ id: 'a1' } as ApprovalView] });
    await first;
    expect(approvals.count).toBe(0);
    expect(approvals.loaded).toBe(true);
  });
});
