// The chart colours of the current theme, read from design/theme.css's tokens and read again whenever
// <html data-theme> changes (the theme switch, or the system's setting under "system").
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue';
import type { ChartPalette } from '../components/dashboard/chart-options';

function token(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

export function readChartPalette(): ChartPalette {
  const s = getComputedStyle(document.documentElement);
  const success = token(s, '--ts-success', '#176c41');
  const danger = token(s, '--ts-danger', '#b42318');
  const warning = token(s, '--ts-warning', '#8a5a00');
  const info = token(s, '--ts-info', '#1d4ed8');
  const muted = token(s, '--ts-text-muted', '#4f5b67');
  const primary = token(s, '--ts-primary', '#b93815');
  return {
    text: token(s, '--ts-text', '#1f2933'),
    muted,
    border: token(s, '--ts-border', '#cfd5dc'),
    status: { pending: muted, running: info, waiting: primary, succeeded: success, failed: danger, cancelled: muted, timed_out: warning },
    series: [info, primary, success, warning],
  };
}

export function useChartPalette(): Ref<ChartPalette> {
  const palette = ref<ChartPalette>(readChartPalette());
  let observer: MutationObserver | null = null;
  onMounted(() => {
    observer = new MutationObserver(() => (palette.value = readChartPalette()));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  });
  onBeforeUnmount(() => observer?.disconnect());
  return palette;
}
