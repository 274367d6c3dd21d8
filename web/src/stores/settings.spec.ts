// The Settings stores: what they send the API and how the lists follow — a credential created, rotated and
// deleted; a member added, re-roled, removed; an API key shown once then forgotten, revoked but still listed;
// the audit log's filter and its pages by nextBefore (and a stale answer after a filter change ignored).
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { answer, api, resetApi } from '../testing/api-client-mock';
import { useApiKeysStore } from './api-keys';
import { useAuditLogStore } from './audit-log';
import { useCredentialsStore } from './credentials';
import { useMembersStore } from './members';

vi.mock('../api/client', () => import('../testing/api-client-mock'));


const credential = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  provider: 'openai',
  name: id,
  baseUrl: null,
  createdBy: null,
  createdAt: '2026-12-01T00:00:00.000Z',
  rotatedAt: null,
  usedBy: [],
  ...extra,
});

beforeEach(() => {
  setActivePinia(createPinia());
  resetApi();
});

describe('useCredentialsStore', () => {
  test('creates with a trimmed base URL only when one is given, rotates in place and deletes', async () => {
    const store = useCredentialsStore();
    answer({ credentials: [credential('a')] }, credential('b', { baseUrl: 'http://127.0.0.1:9/v1' }), credential('c', { provider: 'anthropic' }));
    await store.refresh();
    await store.create({ provider: 'openai', name: ' Gateway ', secret: 'sk', baseUrl: ' http://127.0.0.1:9/v1 ' });
    await store.create({ provider: 'anthropic', name: 'Claude', secret: 'sk2', baseUrl: '  ' });
    expect(api.calls.slice(1).map((c) => c.body)).toEqual([
      { provider: 'openai', name: 'Gateway', secret: 'sk', baseUrl: 'http://127.0.0.1:9/v1' },
      { provider: 'anthropic', name: 'Claude', secret: 'sk2' },
    ]);
    expect(store.forProvider('openai').map((c) => c.id)).toEqual(['a', 'b']);

    answer(credential('a', { rotatedAt: '2026-12-01T01:00:00.000Z' }));
    await store.update('a', { secret: 'sk-new' });
    expect(api.calls.at(-1)).toEqual({ method: 'PATCH', path: '/api/v1/credentials/a', body: { secret: 'sk-new' } });
    expect(store.items[0]?.rotatedAt).toBe('2026-12-01T01:00:00.000Z');

    await store.remove('b');
    expect(api.calls.at(-1)).toEqual({ method: 'DELETE', path: '/api/v1/credentials/b' });
    expect(store.items.map((c) => c.id)).toEqual(['a', 'c']);
  });

  test('keeps the list as it was when the API refuses', async () => {
    const store = useCredentialsStore();
    answer({ credentials: [credential('a')] });
    await store.refresh();
    api.answers.push(() => Promise.reject(new Error('the base URL must be an http:// or https:// URL')));
    await expect(store.create({ provider: 'openai', name: 'x', secret: 's', baseUrl: 'ftp://x' })).rejects.toThrow('http://');
    expect(store.items.map((c) => c.id)).toEqual(['a']);
  });
});

describe('useMembersStore', () => {
  test('adds, changes a role and removes', async () => {
    const store = useMembersStore();
    answer({ users: [{ id: 'o', email: 'o@x', name: 'o', role: 'owner' }] }, { id: 'm', email: 'm@x', name: 'm', role: 'viewer' }, { id: 'm', email: 'm@x', name: 'm', role: 'editor' });
    await store.refresh();
    await store.add({ email: ' m@x ', password: 'long enough', role: 'viewer', name: '' });
    expect(api.calls[1]).toEqual({ method: 'POST', path: '/api/v1/users', body: { email: 'm@x', password: 'long enough', role: 'viewer' } });
    await store.changeRole('m', 'editor');
    expect(api.calls[2]).toEqual({ method: 'PATCH', path: '/api/v1/users/m', body: { role: 'editor' } });
    expect(store.items.find((m) => m.id === 'm')?.role).toBe('editor');
    await store.remove('m');
    expect(store.items.map((m) => m.id)).toEqual(['o']);
  });
});

describe('useApiKeysStore', () => {
  test('shows a new key once, lists it without the key, and keeps a revoked key listed as revoked', async () => {
    const store = useApiKeysStore();
    const listed = { id: 'k', name: 'ci', role: 'viewer', prefix: 'tsk_ab', createdBy: 'u', createdAt: '2026-12-01T00:00:00.000Z', lastUsedAt: null, revokedAt: null };
    answer({ apiKeys: [] }, { ...listed, key: 'tsk_ab_secret' });
    await store.refresh();
    await store.create(' ci ', 'viewer');
    expect(api.calls[1]?.body).toEqual({ name: 'ci', role: 'viewer' });
    expect(store.revealed?.key).toBe('tsk_ab_secret');
    expect(JSON.stringify(store.items)).not.toContain('tsk_ab_secret');
    store.dismissRevealed();
    expect(store.revealed).toBeNull();

    await store.revoke('k');
    expect(api.calls.at(-1)).toEqual({ method: 'DELETE', path: '/api/v1/api-keys/k' });
    expect(store.active).toEqual([]);
    expect(store.revoked.map((k) => k.id)).toEqual(['k']);
  });
});

describe('useAuditLogStore', () => {
  const entry = (id: string) => ({ id, at: '2026-12-01T00:00:00.000Z', actorType: 'user', actorId: 'u', action: 'credential.create', targetType: 'credential', targetId: 'c', ip: null, details: {} });

  test('sends the filter, pages on with nextBefore and starts over when the filter changes', async () => {
    const store = useAuditLogStore();
    answer({ entries: [entry('9'), entry('8')], nextBefore: '8' }, { entries: [entry('7')], nextBefore: null }, { entries: [entry('5')], nextBefore: null });
    await store.load({ action: 'credential', actorId: ' ', since: '2026-12-01T10:00' });
    const first = new URL(`http://x${api.calls[0]?.path}`);
    expect(first.pathname).toBe('/api/v1/tenant/audit-log');
    expect(first.searchParams.get('action')).toBe('credential');
    expect(first.searchParams.has('actorId')).toBe(false);
    expect(first.searchParams.get('since')).toBe(new Date('2026-12-01T10:00').toISOString());
    expect(store.nextBefore).toBe('8');

    await store.loadMore();
    expect(new URL(`http://x${api.calls[1]?.path}`).searchParams.get('before')).toBe('8');
    expect(store.entries.map((e) => e.id)).toEqual(['9', '8', '7']);
    expect(store.nextBefore).toBeNull();
    await store.loadMore();
    expect(api.calls).toHaveLength(2);

    await store.load({ targetType: 'api_key' });
    expect(store.entries.map((e) => e.id)).toEqual(['5']);
  });

  test('ignores a page that answers after a newer filter was applied', async () => {
    const store = useAuditLogStore();
    let releaseOld: (v: unknown) => void = () => undefined;
    api.answers.push(() => new Promise((resolve) => (releaseOld = resolve)));
    answer({ entries: [entry('2')], nextBefore: null });
    const old = store.load({ action: 'user' });
    await store.load({ action: 'api_key' });
    releaseOld({ entries: [entry('1')], nextBefore: '1' });
    await old;
    expect(store.entries.map((e) => e.id)).toEqual(['2']);
    expect(store.nextBefore).toBeNull();
    expect(store.loading).toBe(false);
  });
});
