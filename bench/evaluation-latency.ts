// Per-text latency of the worker's evaluation pool (activities/evaluation/): the pool's startup (first
// answer), then N evaluations one at a time of a template `{{inputs.x}}` and of a JSONata `$sum([1..100])`.
// Prints one summary line. Usage: npx tsx bench/evaluation-latency.ts [count=2000] [evaluators=2].
// TESSERA_ROOT=/other/checkout times that checkout's pool (for before/after figures).
import path from 'node:path';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { EvaluationPool as Pool } from '../activities/evaluation/pool';

const COUNT = Number(process.argv[2] ?? 2000);
const EVALUATORS = Number(process.argv[3] ?? 2);
const ROOT = process.env.TESSERA_ROOT ?? path.resolve(__dirname, '..');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeEach(pool: Pool, field: Parameters<Pool['evaluate']>[0]): Promise<string> {
  const scope = { inputs: { x: 'otters' }, nodes: {} };
  const ms: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const start = performance.now();
    const outcome = await pool.evaluate(field, scope, 0);
    ms.push(performance.now() - start);
    if (!outcome.ok) throw new Error(`${field.source}: ${outcome.message}`);
  }
  ms.sort((a, b) => a - b);
  return `${field.source} p50 ${percentile(ms, 50).toFixed(2)} / p99 ${percentile(ms, 99).toFixed(2)} ms`;
}

async function main(): Promise<void> {
  const { EvaluationPool } = (await import(path.join(ROOT, 'activities/evaluation/pool'))) as { EvaluationPool: typeof Pool };
  const started = performance.now();
  const pool = new EvaluationPool({ threads: EVALUATORS });
  try {
    await pool.evaluate({ kind: 'expression', source: '1' }, { inputs: {}, nodes: {} }, 0);
    const startup = performance.now() - started;
    const template = await timeEach(pool, { kind: 'template', source: '{{inputs.x}}' });
    const expression = await timeEach(pool, { kind: 'expression', source: '$sum([1..100])' });
    console.log(`evaluation-latency: startup ${startup.toFixed(0)} ms; ${COUNT}× ${template}; ${COUNT}× ${expression} (load ${loadavg()[0]!.toFixed(1)})`);
  } finally {
    await pool.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
