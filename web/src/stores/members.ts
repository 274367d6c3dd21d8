// The tenant's members: list, add (with a first password the admin hands over), change role, remove. The API
// enforces who may touch whom (MEMBER_RULES says it in words); its refusals reach the page as they are.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { apiRequest } from '../api/client';
import type { MemberView, NewMember } from '../api/settings-types';
import type { Role } from '../api/types';

/** The rules server/services/member-service.ts enforces, as the Members page explains them. */
export const MEMBER_RULES: readonly string[] = [
  'Admins and owners manage members; editors and viewers cannot see this list.',
  'Only an owner can add an owner, make someone an owner, or change or remove an owner.',
  'A team always keeps at least one owner: the last owner cannot be removed or demoted.',
  'A removed member is signed out at once.',
];

export const useMembersStore = defineStore('members', () => {
  const items = ref<MemberView[]>([]);
  const loaded = ref(false);

  async function refresh(): Promise<void> {
    items.value = (await apiRequest<{ users: MemberView[] }>('GET', '/api/v1/users')).users;
    loaded.value = true;
  }

  async function add(input: NewMember): Promise<MemberView> {
    const body: NewMember = { email: input.email.trim(), password: input.password, role: input.role };
    if (input.name?.trim()) body.name = input.name.trim();
    const added = await apiRequest<MemberView>('POST', '/api/v1/users', { body });
    items.value = [...items.value, added];
    return added;
  }

  async function changeRole(id: string, role: Role): Promise<MemberView> {
    const changed = await apiRequest<MemberView>('PATCH', `/api/v1/users/${encodeURIComponent(id)}`, { body: { role } });
    items.value = items.value.map((m) => (m.id === id ? changed : m));
    return changed;
  }

  async function remove(id: string): Promise<void> {
    await apiRequest('DELETE', `/api/v1/users/${encodeURIComponent(id)}`);
    items.value = items.value.filter((m) => m.id !== id);
  }

  return { items, loaded, refresh, add, changeRole, remove };
});
