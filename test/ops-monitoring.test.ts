// The monitoring that ships in ops/ (the Grafana dashboard and the Prometheus alert rules) fits what Tessera
// serves: both files parse, every PromQL expression parses with Prometheus's own grammar, and every metric they
// name is in the real scrape of a worker process and an API after a run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createWorkflow, registerTenant, startRun, waitForExecution } from './support/session';
import { startTestStack, type TestStack } from './support/stack';
import { killAllTessera, spawnTessera, stackEnv, workerMetricsUrl, writeWorkflowBundle } from './support/processes';
import { promqlMetricNames, scrape, seriesNames } from './support/prometheus-text';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '..');

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string; refId: string }[];
}

function alertRules(): AlertRule[] {
  const doc = parseYaml(readFileSync(path.join(ROOT, 'ops/prometheus/alerts.yml'), 'utf8'), { prettyErrors: true, uniqueKeys: true }) as { groups: { name: string; rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

function dashboardPanels(): Panel[] {
  const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'ops/grafana/tessera.json'), 'utf8')) as { uid: string; panels: Panel[] };
  return dashboard.panels;
}

/** Grafana's interval macros stand for a duration when Grafana sends the query; any duration parses alike. */
function asPromql(grafanaExpr: string): string {
  return grafanaExpr.replace(/\$__(rate_interval|interval|range)/g, '5m');
}

function expressions(): { where: string; expr: string }[] {
  return [
    ...alertRules().map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
    ...dashboardPanels().flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: asPromql(t.expr) }))),
  ];
}

let stack: TestStack;
let bundleDir: string;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  bundleDir = mkdtempSync(path.join(tmpdir(), 'tessera-bundle-'));
});

afterAll(async () => {
  killAllTessera();
  await stack?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

it('ships alert rules that each name an alert, a severity and a summary, and a dashboard whose panels each query', () => {
  const rules = alertRules();
  expect(rules.length).toBeGreaterThan(0);
  for (const rule of rules) {
    expect(rule).toMatchObject({ alert: expect.stringMatching(/^Tessera[A-Za-z]+$/), expr: expect.any(String), annotations: { summary: expect.any(String) } });
    expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
    if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
  }
  expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  const panels = dashboardPanels();
  expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  for (const panel of panels.filter((p) => p.type !== 'row')) expect(panel.targets?.length).toBeGreaterThan(0);
});

it('parses every PromQL expression of the dashboard and the alerts, and refuses a broken one', () => {
  for (const { where, expr } of expressions()) {
    let names: string[] = [];
    expect(() => (names = promqlMetricNames(expr))).not.toThrow();
    expect({ where, names: names.length > 0 }).toEqual({ where, names: true });
  }
  expect(() => promqlMetricNames('sum(rate(tessera_llm_calls_total[5m])')).toThrow(/does not parse/);
  expect(() => promqlMetricNames('histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m] )))) > 1')).toThrow(/does not parse/);
});

it('names only metrics that a worker and an API serve after a run', async () => {
  const worker = spawnTessera('worker', stackEnv(stack, writeWorkflowBundle(stack.workflowBundle, path.join(bundleDir, 'workflow-bundle.js'))));
  await worker.ready;
  const owner = await registerTenant(stack);
  const workflowId = await createWorkflow(stack, owner, {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: {} } },
      { id: 'draft', type: 'agent', position: { x: 200, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: 'Say something' } },
      { id: 'out', type: 'output', position: { x: 400, y: 0 }, data: { value: '{{nodes.draft.text}}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'draft' },
      { id: 'e2', source: 'draft', target: 'out' },
    ],
  });
  expect((await waitForExecution(stack, owner, await startRun(stack, owner, workflowId))).status).toBe('succeeded');

  const served = new Set([...seriesNames(await scrape(workerMetricsUrl(worker))), ...seriesNames(await scrape(`${stack.baseUrl}/metrics`))]);
  const missing = expressions().flatMap(({ where, expr }) => promqlMetricNames(expr).filter((name) => !served.has(name)).map((name) => `${where}: ${name}`));
  expect(missing).toEqual([]);
  // The check can tell: a name nobody serves is missing.
  expect(served.has('tessera_llm_calls_total')).toBe(true);
  expect(served.has('tessera_llm_call_total')).toBe(false);
});
