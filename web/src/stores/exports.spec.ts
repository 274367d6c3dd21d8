// The exports store: it follows unfinished exports with a poll that stops once every export has ended.
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { ExportSummary } from '../api/types';
import { useExportsStore } from './exports';

const api = vi.hoisted(() => ({ answers: [] as unknown[], calls: [] as string[] }));
vi.mock('../api/client', () => ({
  apiRequest: (method: string, path: string) => {
    api.calls.push(`${method} ${path}`);
    return Promise.resolve(method === 'GET' ? api.answers.shift() : { id: 'x1' });
  },
  apiDownload: () => Promise.reject(new Error('not in this test')),
  describeError: String,
}));

function exported(status: ExportSummary['status']): ExportSummary {
  return {
    id: 'x1',
    workflowId: 'w',
    workflowVersion: 1,
    status,
    packageName: 'tessera-w',
    version: '1',
    wheelFile: status === 'succeeded' ? 'tessera_w-1-py3-none-any.whl' : null,
    sha256: null,
    sizeBytes: null,
    error: null,
    createdAt: '2026-11-22T00:00:00.000Z',
    finishedAt: null,
    temporal: { workflowId: 'tenant/t/export/x1' },
  };
}

describe('useExportsStore', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.useFakeTimers();
    api.answers = [];
    api.calls = [];
  });
  afterEach(() => vi.useRealTimers());

  test('starting an export lists it, polls while it builds and stops polling once it has succeeded', async () => {
    const exports = useExportsStore();
    api.answers.push({ items: [exported('building')] }, { items: [exported('checking')] }, { items: [exported('succeeded')] });
    await exports.start('w', 1);
    expect(api.calls).toEqual(['POST /api/v1/workflows/w/exports', 'GET /api/v1/workflows/w/exports?limit=20']);
    expect(exports.unfinished).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(exports.items[0]?.status).toBe('checking');
    await vi.advanceTimersByTimeAsync(1000);
    expect(exports.items[0]?.status).toBe('succeeded');
    expect(exports.unfinished).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.calls).toHaveLength(4);
  });

  test('stop ends the polling and forgets the list', async () => {
    const exports = useExportsStore();
    api.answers.push({ items: [exported('building')] });
    await exports.load('w');
    exports.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.calls).toHaveLength(1);
    expect(exports.items).toEqual([]);
  });
});
