// The auth store against a scripted fetch: concurrent 401s share one refresh (the refresh token rotates and a
// reused one revokes the family), a failed refresh signs out, and the session survives a reload.
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { apiRequest } from '../api/client';
import { useAuthStore } from './auth';

const session = {
  accessToken: 'access-1',
  refreshToken: 'refresh-1',
  user: { id: 'u', email: 'a@example.com', name: null, role: 'editor' },
  tenant: { id: 't', slug: 'acme', name: 'Acme' },
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

describe('useAuthStore', () => {
  let refreshCalls: string[];

  beforeEach(() => {
    localStorage.clear();
    localStorage.setItem('tessera.session', JSON.stringify(session));
    setActivePinia(createPinia());
    refreshCalls = [];
  });
  afterEach(() => vi.unstubAllGlobals());

  test('a stored session is picked up after a reload, with tenant and role', () => {
    const auth = useAuthStore();
    expect(auth.signedIn).toBe(true);
    expect(auth.tenant?.name).toBe('Acme');
    expect(auth.canEdit).toBe(true);
  });

  test('three requests that meet an expired token trigger exactly one refresh, then all succeed', async () => {
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>)['authorization'];
      if (url === '/api/v1/auth/refresh') {
        refreshCalls.push(JSON.parse(String(init.body)).refreshToken);
        await new Promise((r) => setTimeout(r, 20));
        return json(200, { accessToken: 'access-2', refreshToken: 'refresh-2' });
      }
      return auth === 'Bearer access-2' ? json(200, { ok: url }) : json(401, { error: { code: 'UNAUTHORIZED', message: 'expired' } });
    });
    const auth = useAuthStore();
    const results = await Promise.all(['/a', '/b', '/c'].map((p) => apiRequest<{ ok: string }>('GET', p)));
    expect(results.map((r) => r.ok)).toEqual(['/a', '/b', '/c']);
    expect(refreshCalls).toEqual(['refresh-1']);
    expect(auth.refreshToken).toBe('refresh-2');
    expect(JSON.parse(localStorage.getItem('tessera.session') ?? '{}').accessToken).toBe('access-2');
  });

  test('a refused refresh signs the user out', async () => {
    vi.stubGlobal('fetch', async (url: string) =>
      url === '/api/v1/auth/refresh' ? json(401, { error: { code: 'UNAUTHORIZED', message: 'revoked' } }) : json(401, { error: { code: 'UNAUTHORIZED', message: 'expired' } }),
    );
    const auth = useAuthStore();
    await expect(apiRequest('GET', '/api/v1/workflows')).rejects.toMatchObject({ status: 401 });
    expect(auth.signedIn).toBe(false);
    expect(localStorage.getItem('tessera.session')).toBeNull();
  });

  test('a viewer cannot edit', () => {
    localStorage.setItem('tessera.session', JSON.stringify({ ...session, user: { ...session.user, role: 'viewer' } }));
    setActivePinia(createPinia());
    expect(useAuthStore().canEdit).toBe(false);
  });
});
