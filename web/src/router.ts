// Routes: sign-in, the workflows list, the editor (and a run shown on it), the approvals inbox.
import { createRouter, createWebHistory, type Router } from 'vue-router';
import { useAuthStore } from './stores/auth';

export function createAppRouter(): Router {
  const router = createRouter({
    history: createWebHistory(),
    routes: [
      { path: '/login', name: 'login', component: () => import('./views/AuthView.vue'), meta: { public: true } },
      { path: '/', redirect: '/workflows' },
      { path: '/workflows', name: 'workflows', component: () => import('./views/WorkflowsView.vue') },
      { path: '/workflows/:id', name: 'editor', component: () => import('./views/EditorView.vue') },
      { path: '/workflows/:id/runs/:executionId', name: 'run', component: () => import('./views/EditorView.vue') },
      { path: '/inbox', name: 'inbox', component: () => import('./views/InboxView.vue') },
      { path: '/:pathMatch(.*)*', redirect: '/workflows' },
    ],
  });
  router.beforeEach((to) => {
    const auth = useAuthStore();
    if (!to.meta['public'] && !auth.signedIn) return { name: 'login', query: { next: to.fullPath } };
    if (to.name === 'login' && auth.signedIn) return { name: 'workflows' };
    return true;
  });
  return router;
}
