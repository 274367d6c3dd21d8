// The workflows list's delete dialog says what DELETE /workflows/:id does (the sentence the API documents and
// test/complete-deletion.test.ts checks against the behaviour), and only its confirm button deletes.
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import { WORKFLOW_DELETION_EFFECTS } from '../../../core/workflow-deletion';
import { useAuthStore } from '../stores/auth';
import { answer, api, resetApi } from '../testing/api-client-mock';
import WorkflowsView from './WorkflowsView.vue';

// The auth store binds its session to the client once; the stand-in has nothing to bind.
vi.mock('../api/client', async () => ({ ...(await import('../testing/api-client-mock')), bindSession: () => undefined }));

const workflow = { id: 'w1', name: 'Alpha digest', description: '', version: 3, createdAt: '2026-12-02T09:00:00.000Z', updatedAt: '2026-12-02T10:00:00.000Z' };

async function mountAsEditor() {
  const auth = useAuthStore();
  auth.user = { id: 'u1', email: 'e@example.com', name: 'E', role: 'editor' };
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:any(.*)*', component: { template: '<div />' } }] });
  answer({ items: [workflow], total: 1 }, { items: [] });
  const w = mount(WorkflowsView, { attachTo: document.body, global: { plugins: [router] } });
  await flushPromises();
  return w;
}

const inBody = (testid: string) => document.body.querySelector<HTMLElement>(`[data-testid="${testid}"]`);

beforeEach(() => {
  setActivePinia(createPinia());
  resetApi();
});

describe('WorkflowsView delete dialog', () => {
  test('says running runs are cancelled and the history stays, and deletes only once confirmed', async () => {
    const w = await mountAsEditor();
    await w.find('[data-testid="delete-workflow"]').trigger('click');
    await flushPromises();
    const dialog = inBody('confirm-dialog');
    expect(dialog?.querySelector('h2')?.textContent).toBe('Delete “Alpha digest”?');
    expect(dialog?.querySelector('p')?.textContent).toBe(WORKFLOW_DELETION_EFFECTS);
    // What the sentence promises, in the words a user reads (the integration test holds the API to each).
    expect(WORKFLOW_DELETION_EFFECTS).toContain('running runs are cancelled');
    expect(WORKFLOW_DELETION_EFFECTS).toContain('deployments stopped');
    expect(WORKFLOW_DELETION_EFFECTS).toContain('schedules and webhooks deleted');
    expect(WORKFLOW_DELETION_EFFECTS).toContain('runs, exports and deployments stay in the history');

    inBody('confirm-cancel')?.click();
    await flushPromises();
    expect(inBody('confirm-dialog')).toBeNull();
    expect(api.calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(w.find('[data-testid="workflow-row-w1"]').exists()).toBe(true);

    await w.find('[data-testid="delete-workflow"]').trigger('click');
    await flushPromises();
    inBody('confirm-ok')?.click();
    await flushPromises();
    expect(api.calls.filter((c) => c.method === 'DELETE')).toEqual([{ method: 'DELETE', path: '/api/v1/workflows/w1' }]);
    expect(w.find('[data-testid="workflow-row-w1"]').exists()).toBe(false);
    w.unmount();
  });
});
