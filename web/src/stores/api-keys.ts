// The tenant's API keys: list (prefix, role, last use), create — the key is kept here only until the page
// that showed it once is dismissed — and revoke.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { apiRequest } from '../api/client';
import type { ApiKeyRole, ApiKeyView, CreatedApiKey } from '../api/settings-types';

export const useApiKeysStore = defineStore('apiKeys', () => {
  const items = ref<ApiKeyView[]>([]);
  const loaded = ref(false);
  /** The key just created, shown once; null once the user closed it. */
  const revealed = ref<CreatedApiKey | null>(null);

  const active = computed(() => items.value.filter((k) => !k.revokedAt));
  const revoked = computed(() => items.value.filter((k) => k.revokedAt));

  async function refresh(): Promise<void> {
    items.value = (await apiRequest<{ apiKeys: ApiKeyView[] }>('GET', '/api/v1/api-keys')).apiKeys;
    loaded.value = true;
  }

  async function create(name: string, role: ApiKeyRole): Promise<CreatedApiKey> {
    const created = await apiRequest<CreatedApiKey>('POST', '/api/v1/api-keys', { body: { name: name.trim(), role } });
    // The list never holds the key: only `revealed` does, until the user closes it.
    const listed: ApiKeyView = { ...created };
    delete (listed as Partial<CreatedApiKey>).key;
    items.value = [listed, ...items.value];
    revealed.value = created;
    return created;
  }

  function dismissRevealed(): void {
    revealed.value = null;
  }

  async function revoke(id: string): Promise<void> {
    await apiRequest('DELETE', `/api/v1/api-keys/${encodeURIComponent(id)}`);
    const now = new Date().toISOString();
    items.value = items.value.map((k) => (k.id === id ? { ...k, revokedAt: k.revokedAt ?? now } : k));
  }

  return { items, loaded, revealed, active, revoked, refresh, create, dismissRevealed, revoke };
});
