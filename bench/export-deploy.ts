// Code export and deployment times against a running stack (`npm start`): from POST /workflows/:id/exports to the
// moment GET /exports/:id/download answers 200 (render, PEP 517 build, venv check, store), then from POST
// /exports/:id/deployments to a one-shot container's outputs, and to a service container answering POST /run.
// Usage: npx tsx bench/export-deploy.ts [exports=3] (BASE_URL defaults to http://127.0.0.1:3000; BASE_IMAGE to the
// server's DEPLOY_BASE_IMAGE; DEPLOY=0 skips the deployments, which need a Docker engine on the worker's host).
import { randomBytes } from 'node:crypto';

const BASE = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
const EXPORTS = Number(process.argv[2] ?? 3);
const BASE_IMAGE = process.env.BASE_IMAGE;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON boundary: the bench reads response bodies loosely
async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

const graph = {
  nodes: [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', required: true } } } },
    { id: 'a', type: 'agent', position: { x: 0, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: 'A {{inputs.topic}}' } },
    { id: 'b', type: 'agent', position: { x: 0, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: 'B {{inputs.topic}}' } },
    { id: 'gate', type: 'condition', position: { x: 0, y: 0 }, data: { expression: '$length(nodes.a.text) > 3' } },
    { id: 'out', type: 'output', position: { x: 0, y: 0 }, data: { value: '{{nodes.a.text}} / {{nodes.b.text}}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'a' },
    { id: 'e2', source: 'start', target: 'b' },
    { id: 'e3', source: 'a', target: 'gate' },
    { id: 'e4', source: 'b', target: 'gate' },
    { id: 'e5', source: 'gate', sourceHandle: 'true', target: 'out' },
  ],
};

async function until<T>(probe: () => Promise<T | null>, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await probe();
    if (found !== null) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

function stats(label: string, ms: number[]): void {
  const sorted = [...ms].sort((a, b) => a - b);
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
  console.log(`${label}: n=${ms.length} min=${Math.round(sorted[0] ?? 0)} ms p50=${Math.round(p50)} ms max=${Math.round(sorted[sorted.length - 1] ?? 0)} ms`);
}

async function main(): Promise<void> {
  const reg = await call('POST', '/auth/register', undefined, { tenantName: `bench ${randomBytes(3).toString('hex')}`, email: `bench-${randomBytes(4).toString('hex')}@example.com`, password: 'bench password 123' });
  const token = reg.body.accessToken as string;
  const wf = await call('POST', '/workflows', token, { name: 'Export bench', graph });
  const exportTimes: number[] = [];
  let exportId = '';
  for (let i = 0; i < EXPORTS; i++) {
    const t0 = performance.now();
    const started = await call('POST', `/workflows/${wf.body.id}/exports`, token, {});
    if (started.status !== 202) throw new Error(`export refused: ${JSON.stringify(started.body)}`);
    exportId = started.body.id;
    await until(async () => {
      const res = await fetch(`${BASE}/api/v1/exports/${exportId}/download`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status === 200) return res.arrayBuffer();
      const view = await call('GET', `/exports/${exportId}`, token);
      if (view.body.status === 'failed') throw new Error(`export failed: ${view.body.buildLog}`);
      return null;
    });
    exportTimes.push(performance.now() - t0);
  }
  stats('export (POST to downloadable wheel)', exportTimes);
  if (process.env.DEPLOY === '0') return;

  const t1 = performance.now();
  const oneshot = await call('POST', `/exports/${exportId}/deployments`, token, { mode: 'oneshot', inputs: { topic: 'bench' }, ...(BASE_IMAGE ? { baseImage: BASE_IMAGE } : {}) });
  const done = await until(async () => {
    const d = await call('GET', `/deployments/${oneshot.body.id}`, token);
    if (d.body.status === 'failed') throw new Error(`deployment failed: ${JSON.stringify(d.body.error)} ${d.body.logs}`);
    return d.body.status === 'succeeded' ? d.body : null;
  });
  stats('deploy one-shot (POST to outputs)', [performance.now() - t1]);
  console.log(`  outputs: ${JSON.stringify(done.outputs)}`);
  await call('DELETE', `/deployments/${oneshot.body.id}`, token);

  const t2 = performance.now();
  const service = await call('POST', `/exports/${exportId}/deployments`, token, { mode: 'service', ...(BASE_IMAGE ? { baseImage: BASE_IMAGE } : {}) });
  const running = await until(async () => {
    const d = await call('GET', `/deployments/${service.body.id}`, token);
    if (d.body.status === 'failed') throw new Error(`deployment failed: ${JSON.stringify(d.body.error)}`);
    return d.body.status === 'running' ? d.body : null;
  });
  await until(async () => {
    const res = await fetch(`${running.url}/run`, { method: 'POST', body: JSON.stringify({ inputs: { topic: 'bench' } }) }).catch(() => null);
    return res?.status === 200 ? true : null;
  });
  stats('deploy service (POST to first answered POST /run)', [performance.now() - t2]);
  const t3 = performance.now();
  await call('DELETE', `/deployments/${service.body.id}`, token);
  stats('remove service (DELETE)', [performance.now() - t3]);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
