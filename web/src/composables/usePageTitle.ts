// Per-view page titles ("Settings · Credentials — Tessera"): a route's `meta.title`, set after each navigation,
// or a view's own (a workflow's name) through usePageTitle.
import { watchEffect, type MaybeRefOrGetter, toValue } from 'vue';

export const APP_NAME = 'Tessera';

export function pageTitle(title: string | undefined): string {
  return title ? `${title} — ${APP_NAME}` : APP_NAME;
}

export function usePageTitle(title: MaybeRefOrGetter<string | undefined>): void {
  watchEffect(() => {
    document.title = pageTitle(toValue(title));
  });
}
