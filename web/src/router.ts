// Routes: sign-in, the workflows list, the templates gallery, the editor (and a run shown on it), the runs list,
// the dashboard, the approvals inbox and Settings. Each names its page title (meta.title), set after every navigation.
import { createRouter, createWebHistory, type Router } from 'vue-router';
import { pageTitle } from './composables/usePageTitle';
import { useAuthStore } from './stores/auth';

export function createAppRouter(): Router {
  const router = createRouter({
    history: createWebHistory(),
    routes: [
      { path: '/login', name: 'login', component: () => import('./views/AuthView.vue'), meta: { public: true, title: 'Sign in' } },
      { path: '/', redirect: '/workflows' },
      { path: '/workflows', name: 'workflows', component: () => import('./views/WorkflowsView.vue'), meta: { title: 'Workflows' } },
      { path: '/templates', name: 'templates', component: () => import('./views/TemplatesView.vue'), meta: { title: 'Templates' } },
      { path: '/workflows/:id', name: 'editor', component: () => import('./views/EditorView.vue'), meta: { title: 'Editor' } },
      { path: '/workflows/:id/runs/:executionId', name: 'run', component: () => import('./views/EditorView.vue'), meta: { title: 'Run' } },
      { path: '/runs', name: 'runs', component: () => import('./views/RunsView.vue'), meta: { title: 'Runs' } },
      { path: '/dashboard', name: 'dashboard', component: () => import('./views/DashboardView.vue'), meta: { title: 'Dashboard' } },
      { path: '/inbox', name: 'inbox', component: () => import('./views/InboxView.vue'), meta: { title: 'Inbox' } },
      {
        path: '/settings',
        component: () => import('./views/SettingsView.vue'),
        children: [
          { path: '', redirect: '/settings/credentials' },
          { path: 'credentials', name: 'settings-credentials', component: () => import('./views/settings/CredentialsPage.vue'), meta: { title: 'Settings · Credentials' } },
          { path: 'mcp-servers', name: 'settings-mcp-servers', component: () => import('./views/settings/McpServersPage.vue'), meta: { title: 'Settings · MCP servers' } },
          { path: 'members', name: 'settings-members', component: () => import('./views/settings/MembersPage.vue'), meta: { title: 'Settings · Members' } },
          { path: 'api-keys', name: 'settings-api-keys', component: () => import('./views/settings/ApiKeysPage.vue'), meta: { title: 'Settings · API keys' } },
          { path: 'audit-log', name: 'settings-audit-log', component: () => import('./views/settings/AuditLogPage.vue'), meta: { title: 'Settings · Audit log' } },
        ],
      },
      { path: '/:pathMatch(.*)*', redirect: '/workflows' },
    ],
  });
  router.beforeEach((to) => {
    const auth = useAuthStore();
    if (!to.meta['public'] && !auth.signedIn) return { name: 'login', query: { next: to.fullPath } };
    if (to.name === 'login' && auth.signedIn) return { name: 'workflows' };
    return true;
  });
  router.afterEach((to) => {
    document.title = pageTitle(typeof to.meta['title'] === 'string' ? to.meta['title'] : undefined);
  });
  return router;
}
