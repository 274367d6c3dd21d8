// The tenant's provider credentials: list (with where each is used), create, rotate or re-point, delete.
// The secret goes to the API and is never read back; the agent form picks from this list.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { apiRequest } from '../api/client';
import type { CredentialChange, CredentialView, NewCredential } from '../api/settings-types';

export const useCredentialsStore = defineStore('credentials', () => {
  const items = ref<CredentialView[]>([]);
  const loaded = ref(false);

  async function refresh(): Promise<void> {
    items.value = (await apiRequest<{ credentials: CredentialView[] }>('GET', '/api/v1/credentials')).credentials;
    loaded.value = true;
  }

  async function create(input: NewCredential): Promise<CredentialView> {
    const body: NewCredential = { provider: input.provider, name: input.name.trim(), secret: input.secret };
    if (input.baseUrl?.trim()) body.baseUrl = input.baseUrl.trim();
    const created = await apiRequest<CredentialView>('POST', '/api/v1/credentials', { body });
    items.value = [...items.value, created];
    return created;
  }

  /** Rename, re-point (baseUrl, null for the provider's default) or rotate (a new secret) in place. */
  async function update(id: string, change: CredentialChange): Promise<CredentialView> {
    const updated = await apiRequest<CredentialView>('PATCH', `/api/v1/credentials/${encodeURIComponent(id)}`, { body: change });
    items.value = items.value.map((c) => (c.id === id ? updated : c));
    return updated;
  }

  async function remove(id: string): Promise<void> {
    await apiRequest('DELETE', `/api/v1/credentials/${encodeURIComponent(id)}`);
    items.value = items.value.filter((c) => c.id !== id);
  }

  function forProvider(provider: string): CredentialView[] {
    return items.value.filter((c) => c.provider === provider);
  }

  return { items, loaded, refresh, create, update, remove, forProvider };
});
