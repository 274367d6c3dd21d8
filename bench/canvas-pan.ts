// Canvas smoothness: opens a 300-node workflow in Debian's Chromium (headless, software rendering) and
// records requestAnimationFrame deltas while the view is panned by mouse drags, printing p50/p95/max frame time.
// Against a running stack serving the built web app (`npm run build && npm start`).
// Usage: npx tsx bench/canvas-pan.ts [nodes=300] [seconds=6] (BASE_URL defaults to http://127.0.0.1:3000; MINIMAP=1 shows the minimap).
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/e2e/chromium';

const BASE = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
const NODES = Number(process.argv[2] ?? 300);
const SECONDS = Number(process.argv[3] ?? 6);
const COLUMNS = 20;

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A trigger feeding a binary tree of agents, with an output at the end: every node reachable, nothing invalid. */
function bigGraph(count: number) {
  const place = (i: number) => ({ x: (i % COLUMNS) * 260, y: Math.floor(i / COLUMNS) * 120 });
  const nodes = [{ id: 'n0', type: 'trigger', position: place(0), data: { inputs: { topic: { type: 'string' } } } }];
  const edges: { id: string; source: string; target: string }[] = [];
  for (let i = 1; i < count - 1; i++) {
    nodes.push({ id: `n${i}`, type: 'agent', position: place(i), data: { provider: 'echo', model: 'echo-1', prompt: `step ${i}: {{inputs.topic}}` } as never });
    edges.push({ id: `e${i}`, source: `n${Math.floor((i - 1) / 2)}`, target: `n${i}` });
  }
  nodes.push({ id: `n${count - 1}`, type: 'output', position: place(count - 1), data: { value: '{{nodes.n1.text}}' } as never });
  edges.push({ id: `e${count - 1}`, source: `n${count - 2}`, target: `n${count - 1}` });
  return { nodes, edges };
}

/** Records requestAnimationFrame deltas while dragging the pane back and forth for SECONDS. */
async function measurePan(page: Page): Promise<string> {
  // Passed as source text: tsx would otherwise wrap the function with a helper that does not exist in the page.
  await page.evaluate(`(() => {
    window.frameDeltas = [];
    window.recording = true;
    let last = performance.now();
    const tick = (now) => {
      window.frameDeltas.push(now - last);
      last = now;
      if (window.recording) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  const canvas = await page.getByTestId('canvas').boundingBox();
  if (!canvas) throw new Error('no canvas');
  // Grab the pane where no node is (a drag on a node would move the node instead).
  const start = (await page.evaluate(`(() => {
    for (let y = ${canvas.y + 10}; y < ${canvas.y + canvas.height - 200}; y += 7)
      for (let x = ${canvas.x + 10}; x < ${canvas.x + canvas.width / 2}; x += 7)
        if (document.elementFromPoint(x, y)?.classList.contains('vue-flow__pane')) return { x, y };
    return null;
  })()`)) as { x: number; y: number } | null;
  if (!start) throw new Error('no empty spot of the pane to grab');
  const until = Date.now() + SECONDS * 1000;
  let direction = 1;
  while (Date.now() < until) {
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    await page.mouse.move(start.x + direction * 600, start.y + direction * 300, { steps: 60 });
    await page.mouse.up();
    direction = -direction;
  }
  const deltas = (await page.evaluate('(() => { window.recording = false; return window.frameDeltas.slice(1); })()')) as number[];
  const sorted = [...deltas].sort((a, b) => a - b);
  return `${deltas.length} frames in ${SECONDS} s, frame time p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms, frames over 50 ms: ${deltas.filter((d) => d > 50).length}`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  const reg = await call('POST', '/auth/register', undefined, { tenantName: `Bench ${randomBytes(3).toString('hex')}`, email, password: 'correct horse battery' });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)} (is the stack running at ${BASE}?)`);
  const token = String(reg.body['accessToken']);
  const wf = await call('POST', '/workflows', token, { name: `Canvas ${NODES}`, graph: bigGraph(NODES) });
  if (wf.status !== 201) throw new Error(`create failed: ${wf.status} ${JSON.stringify(wf.body)}`);
  const validation = wf.body['validation'] as { valid: boolean };

  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const session = JSON.stringify({ accessToken: reg.body['accessToken'], refreshToken: reg.body['refreshToken'], user: reg.body['user'], tenant: reg.body['tenant'] });
    await context.addInitScript(`localStorage.setItem('tessera.session', ${JSON.stringify(session)})`);
    const page = await context.newPage();
    const opened = Date.now();
    await page.goto(`${BASE}/workflows/${String(wf.body['id'])}`);
    await page.locator('.vue-flow__node').nth(NODES - 1).waitFor({ timeout: 60_000 });
    const openMs = Date.now() - opened;
    // Zoom in to 1:1 around the middle, as a builder works, then pan across the graph.
    await page.getByTestId('fit-view').click();
    // MINIMAP=1 measures with the minimap shown (it starts hidden above 150 nodes).
    if (process.env.MINIMAP === '1' && (await page.getByTestId('minimap').count()) === 0) await page.getByTestId('toggle-minimap').click();
    await page.waitForTimeout(500);

    const minimapShown = (await page.getByTestId('minimap').count()) > 0;
    const fit = await measurePan(page);
    // Then closer in, as a builder works: the controls' zoom-in button, eight times (×1.2 each).
    for (let i = 0; i < 8; i++) await page.locator('.vue-flow__controls-zoomin').click();
    await page.waitForTimeout(500);
    const close = await measurePan(page);
    const rendered = await page.locator('.vue-flow__node').count();
    console.log(`canvas: ${NODES} nodes (${rendered} rendered), ${NODES - 1} edges, valid=${validation.valid}, minimap ${minimapShown ? 'shown' : 'hidden'}, opened in ${openMs} ms`);
    console.log(`panning with all ${NODES} nodes in view: ${fit}`);
    console.log(`panning zoomed in (×${(1.2 ** 8).toFixed(1)} from fit): ${close}`);
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
