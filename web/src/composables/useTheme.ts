// The colour theme: light, dark or the system's, kept in localStorage and applied as <html data-theme>, which
// design/theme.css reads. Applied from a module before the app mounts (no inline script: the CSP forbids it).
import { ref, type Ref } from 'vue';

export type ThemeChoice = 'light' | 'dark' | 'system';
const STORAGE_KEY = 'tessera.theme';

const choice: Ref<ThemeChoice> = ref(readChoice());
let media: MediaQueryList | null = null;

function readChoice(): ThemeChoice {
  const stored = typeof localStorage === 'undefined' ? null : localStorage.getItem(STORAGE_KEY);
  return stored === 'light' || stored === 'dark' ? stored : 'system';
}

function systemPrefersDark(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
}

function apply(): void {
  const dark = choice.value === 'dark' || (choice.value === 'system' && systemPrefersDark());
  document.documentElement.dataset['theme'] = dark ? 'dark' : 'light';
}

/** Sets data-theme from the stored choice and follows the system's setting while the choice is "system". */
export function applyStoredTheme(): void {
  apply();
  if (!media && typeof matchMedia === 'function') {
    media = matchMedia('(prefers-color-scheme: dark)');
    media.addEventListener('change', apply);
  }
}

export function useTheme() {
  function setTheme(next: ThemeChoice): void {
    choice.value = next;
    if (next === 'system') localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, next);
    apply();
  }
  return { theme: choice, setTheme };
}
