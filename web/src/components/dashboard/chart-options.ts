// The dashboard's charts as ECharts options, built from GET /analytics (pure: the palette comes from the
// theme's tokens, so light and dark differ only in it), and a sentence per chart for screen readers.
import { EXECUTION_STATUSES, type ExecutionStatus } from '../../../../core/events';
import type { AnalyticsView } from '../../api/types';
import { formatDuration } from '../run/agent-rounds';

/** The colours a chart takes from the theme (design/theme.css). */
export interface ChartPalette {
  text: string;
  muted: string;
  border: string;
  status: Record<ExecutionStatus, string>;
  series: string[];
}

/** A model's row label: `provider/model`, or the provider (a node type) alone when no model is named. */
export function modelLabel(m: { provider: string; model: string | null }): string {
  return m.model ? `${m.provider}/${m.model}` : m.provider;
}

export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return 'no price';
  if (usd === 0) return '$0';
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

function axes(p: ChartPalette) {
  const axisLabel = { color: p.muted };
  const axisLine = { lineStyle: { color: p.border } };
  return { axisLabel, axisLine, splitLine: { lineStyle: { color: p.border, opacity: 0.5 } } };
}

const base = (p: ChartPalette) => ({
  backgroundColor: 'transparent',
  textStyle: { color: p.text },
  tooltip: { trigger: 'axis' as const },
  legend: { textStyle: { color: p.text }, top: 0 },
  grid: { left: 8, right: 16, top: 36, bottom: 8 },
  aria: { enabled: true },
  animation: false,
});

/** The statuses that have runs in the range, in the API's order. */
export function statusesIn(view: AnalyticsView): ExecutionStatus[] {
  return EXECUTION_STATUSES.filter((s) => view.runsPerDay.some((d) => (d.byStatus[s] ?? 0) > 0));
}

export function runsPerDayOption(view: AnalyticsView, p: ChartPalette) {
  const a = axes(p);
  return {
    ...base(p),
    xAxis: { type: 'category' as const, data: view.runsPerDay.map((d) => d.day.slice(5)), ...a },
    yAxis: { type: 'value' as const, minInterval: 1, ...a },
    series: statusesIn(view).map((status) => ({
      name: status,
      type: 'bar' as const,
      stack: 'runs',
      itemStyle: { color: p.status[status] },
      data: view.runsPerDay.map((d) => d.byStatus[status] ?? 0),
    })),
  };
}

export function durationOption(view: AnalyticsView, p: ChartPalette) {
  const a = axes(p);
  const days = view.duration.perDay;
  return {
    ...base(p),
    tooltip: { trigger: 'axis' as const, valueFormatter: (v: unknown) => formatDuration(typeof v === 'number' ? v : null) ?? '' },
    xAxis: { type: 'category' as const, data: days.map((d) => d.day.slice(5)), ...a },
    yAxis: { type: 'value' as const, name: 'ms', nameTextStyle: { color: p.muted }, ...a },
    series: [
      { name: 'p50', type: 'line' as const, itemStyle: { color: p.series[0] }, data: days.map((d) => d.p50Ms) },
      { name: 'p95', type: 'line' as const, itemStyle: { color: p.series[1] }, data: days.map((d) => d.p95Ms) },
    ],
  };
}

export function modelsOption(view: AnalyticsView, p: ChartPalette) {
  const a = axes(p);
  return {
    ...base(p),
    xAxis: { type: 'category' as const, data: view.models.map(modelLabel), ...a },
    yAxis: { type: 'value' as const, name: 'tokens', nameTextStyle: { color: p.muted }, ...a },
    series: [
      { name: 'input tokens', type: 'bar' as const, stack: 'tokens', itemStyle: { color: p.series[0] }, data: view.models.map((m) => m.inputTokens) },
      { name: 'output tokens', type: 'bar' as const, stack: 'tokens', itemStyle: { color: p.series[1] }, data: view.models.map((m) => m.outputTokens) },
    ],
  };
}

export function failingNodesOption(view: AnalyticsView, p: ChartPalette) {
  const a = axes(p);
  const rows = [...view.failingNodes].reverse();
  return {
    ...base(p),
    legend: { show: false },
    grid: { left: 8, right: 24, top: 8, bottom: 8 },
    xAxis: { type: 'value' as const, minInterval: 1, ...a },
    yAxis: { type: 'category' as const, data: rows.map((n) => `${n.workflowName ?? 'deleted workflow'} · ${n.nodeId}`), ...a },
    series: [{ name: 'failures', type: 'bar' as const, itemStyle: { color: p.status.failed }, data: rows.map((n) => n.failures) }],
  };
}

/** What each chart shows, in a sentence (the chart's accessible name). */
export function chartSummaries(view: AnalyticsView): { runs: string; duration: string; models: string; failing: string } {
  const counts = statusesIn(view).map((s) => `${view.runsPerDay.reduce((n, d) => n + (d.byStatus[s] ?? 0), 0)} ${s}`);
  const top = view.failingNodes[0];
  return {
    runs: `Runs per day by status: ${view.totals.runs} runs over ${view.runsPerDay.length} days${counts.length ? ` (${counts.join(', ')})` : ''}.`,
    duration:
      view.duration.runs === 0
        ? 'Run duration: no finished runs in this range.'
        : `Run duration: p50 ${formatDuration(view.duration.p50Ms)}, p95 ${formatDuration(view.duration.p95Ms)} over ${view.duration.runs} finished runs.`,
    models: view.models.length
      ? `Tokens per model: ${view.models.map((m) => `${modelLabel(m)} ${m.totalTokens} tokens, ${formatCost(m.costUsd)}`).join('; ')}.`
      : 'Tokens per model: no tokens used in this range.',
    failing: top ? `Top failing nodes: ${top.nodeId} of ${top.workflowName ?? 'a deleted workflow'} failed ${top.failures} times${view.failingNodes.length > 1 ? `, and ${view.failingNodes.length - 1} more` : ''}.` : 'Top failing nodes: no node failed in this range.',
  };
}
