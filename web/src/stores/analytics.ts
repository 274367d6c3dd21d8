// The dashboard's figures: GET /analytics for a range of days (the last 7, 30 or 90) and optionally one
// workflow; the newest read wins when the range changes while one is on its way.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { apiRequest } from '../api/client';
import type { AnalyticsView } from '../api/types';

export const DASHBOARD_RANGES = [7, 30, 90] as const;
export type DashboardRange = (typeof DASHBOARD_RANGES)[number];

export interface AnalyticsFilter {
  days: DashboardRange;
  workflowId?: string;
}

/** The query of GET /analytics: the `days` before `now`. */
export function analyticsQuery(filter: AnalyticsFilter, now: Date): string {
  const q = new URLSearchParams({ from: new Date(now.getTime() - filter.days * 86_400_000).toISOString(), to: now.toISOString() });
  if (filter.workflowId) q.set('workflowId', filter.workflowId);
  return q.toString();
}

export const useAnalyticsStore = defineStore('analytics', () => {
  const view = ref<AnalyticsView | null>(null);
  const filter = ref<AnalyticsFilter>({ days: 30 });
  const loading = ref(false);
  let reads = 0;

  async function load(next?: AnalyticsFilter, now: Date = new Date()): Promise<void> {
    if (next) filter.value = { ...next };
    const read = ++reads;
    loading.value = true;
    try {
      const answer = await apiRequest<AnalyticsView>('GET', `/api/v1/analytics?${analyticsQuery(filter.value, now)}`);
      if (read === reads) view.value = answer;
    } finally {
      if (read === reads) loading.value = false;
    }
  }

  return { view, filter, loading, load };
});
