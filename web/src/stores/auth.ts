// The session: who is signed in, in which tenant, with which role, and the token pair. The refresh token
// rotates and reusing an old one revokes the whole family, so concurrent 401s share ONE refresh.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { apiRequest, bindSession } from '../api/client';
import type { AuthResponse, SessionTenant, SessionUser } from '../api/types';

const STORAGE_KEY = 'tessera.session';

interface StoredSession {
  accessToken: string;
  refreshToken: string;
  user: SessionUser;
  tenant: SessionTenant;
}

function readStored(): StoredSession | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as StoredSession) : null;
  } catch {
    return null;
  }
}

export const useAuthStore = defineStore('auth', () => {
  const stored = readStored();
  const accessToken = ref<string | null>(stored?.accessToken ?? null);
  const refreshToken = ref<string | null>(stored?.refreshToken ?? null);
  const user = ref<SessionUser | null>(stored?.user ?? null);
  const tenant = ref<SessionTenant | null>(stored?.tenant ?? null);
  let refreshing: Promise<boolean> | null = null;

  const signedIn = computed(() => accessToken.value !== null && user.value !== null);
  const role = computed(() => user.value?.role ?? 'viewer');
  const canEdit = computed(() => role.value !== 'viewer');
  /** Admins and owners manage members, API keys, credentials and read the audit log (server/rbac.ts). */
  const isAdmin = computed(() => role.value === 'admin' || role.value === 'owner');
  const isOwner = computed(() => role.value === 'owner');

  function persist(): void {
    if (accessToken.value && refreshToken.value && user.value && tenant.value) {
      const session: StoredSession = { accessToken: accessToken.value, refreshToken: refreshToken.value, user: user.value, tenant: tenant.value };
      localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    } else {
      localStorage.removeItem(STORAGE_KEY);
    }
  }

  function accept(res: AuthResponse): void {
    accessToken.value = res.accessToken;
    refreshToken.value = res.refreshToken;
    user.value = res.user;
    tenant.value = res.tenant;
    persist();
  }

  function clear(): void {
    accessToken.value = null;
    refreshToken.value = null;
    user.value = null;
    tenant.value = null;
    persist();
  }

  async function register(body: { tenantName: string; email: string; password: string; name?: string }): Promise<void> {
    accept(await apiRequest<AuthResponse>('POST', '/api/v1/auth/register', { body, anonymous: true }));
  }

  async function login(body: { email: string; password: string; tenant?: string }): Promise<void> {
    accept(await apiRequest<AuthResponse>('POST', '/api/v1/auth/login', { body, anonymous: true }));
  }

  async function logout(): Promise<void> {
    const token = refreshToken.value;
    try {
      if (token) await apiRequest('POST', '/api/v1/auth/logout', { body: { refreshToken: token } });
    } catch {
      // The session ends locally whatever the server says: a failed logout must not keep anyone signed in.
    }
    clear();
  }

  /** Refreshes once for a given stale access token; callers holding the same stale token share the result. */
  function refreshAfter(staleToken: string): Promise<boolean> {
    if (accessToken.value !== staleToken && accessToken.value !== null) return Promise.resolve(true);
    refreshing ??= doRefresh().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function doRefresh(): Promise<boolean> {
    const token = refreshToken.value;
    if (!token) return false;
    try {
      const res = await apiRequest<{ accessToken: string; refreshToken: string }>('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: token },
        anonymous: true,
      });
      accessToken.value = res.accessToken;
      refreshToken.value = res.refreshToken;
      persist();
      return true;
    } catch {
      clear();
      return false;
    }
  }

  /** A token good for a WebSocket handshake: refreshed first when the server refused the current one. */
  async function freshAccessToken(): Promise<string | null> {
    const current = accessToken.value;
    if (current === null) return null;
    try {
      await apiRequest('GET', '/api/v1/auth/me');
    } catch {
      // apiRequest already refreshed on 401; anything else leaves the token as it is.
    }
    return accessToken.value;
  }

  bindSession({ accessToken: () => accessToken.value, refreshAfter });

  return { accessToken, refreshToken, user, tenant, signedIn, role, canEdit, isAdmin, isOwner, register, login, logout, refreshAfter, freshAccessToken, clear };
});
