// Validate + compile a 1,000-node canvas (layers of agents, transforms and conditions, each node fed by
// up to three nodes of the layer before), the work of every POST …/executions. Prints one summary line.
// Usage: npx tsx bench/compile.ts [nodes=1000] [rounds=50]. TESSERA_ROOT=/other/checkout times that
// checkout's compiler with the same canvas (for before/after figures).
import path from 'node:path';
import { loadavg } from 'node:os';
import type { compileGraph as CompileGraph } from '../core/compile';
import type { validateGraph as ValidateGraph } from '../core/validate';

const NODES = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 50);
const ROOT = process.env.TESSERA_ROOT ?? path.resolve(__dirname, '..');

function layeredCanvas(count: number) {
  const width = 10;
  const nodes: Array<{ id: string; type: string; position: { x: number; y: number }; data: Record<string, unknown> }> = [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: { topic: { type: 'string', default: 'tea' } } } },
  ];
  const edges: Array<{ id: string; source: string; target: string; sourceHandle?: string }> = [];
  let previous = ['start'];
  for (let layer = 1; nodes.length < count - 1; layer++) {
    const current: string[] = [];
    for (let i = 0; i < width && nodes.length < count - 1; i++) {
      const id = `n${layer}_${i}`;
      const kind = (layer + i) % 3;
      const data =
        kind === 0
          ? { provider: 'echo', model: 'echo-1', prompt: `Step ${id} on {{inputs.topic}}` }
          : kind === 1
            ? { template: `{{inputs.topic}} at ${id}` }
            : { expression: `$length(inputs.topic) > ${i}` };
      nodes.push({ id, type: kind === 0 ? 'agent' : kind === 1 ? 'transform' : 'condition', position: { x: layer * 200, y: i * 100 }, data });
      for (let k = 0; k < Math.min(3, previous.length); k++) {
        const source = previous[(i + k) % previous.length]!;
        const fromCondition = nodes.find((n) => n.id === source)?.type === 'condition';
        edges.push({ id: `e${edges.length}`, source, target: id, ...(fromCondition ? { sourceHandle: k % 2 ? 'true' : 'false' } : {}) });
      }
      current.push(id);
    }
    previous = current;
  }
  nodes.push({ id: 'out', type: 'output', position: { x: 99_999, y: 0 }, data: { value: 'done' } });
  for (const source of previous) edges.push({ id: `e${edges.length}`, source, target: 'out', ...(nodes.find((n) => n.id === source)?.type === 'condition' ? { sourceHandle: 'true' } : {}) });
  return { nodes, edges };
}

async function main(): Promise<void> {
  const { compileGraph } = (await import(path.join(ROOT, 'core/compile'))) as { compileGraph: typeof CompileGraph };
  const { validateGraph } = (await import(path.join(ROOT, 'core/validate'))) as { validateGraph: typeof ValidateGraph };
  const graph = layeredCanvas(NODES);
  const check = validateGraph(graph);
  if (!check.valid) throw new Error(`the bench canvas does not validate: ${JSON.stringify(check.errors.slice(0, 3))}`);
  const times: number[] = [];
  for (let i = 0; i < ROUNDS + 5; i++) {
    const t0 = performance.now();
    // What a start does: the compiler validates first, then builds the plan.
    compileGraph(graph, { workflowId: '00000000-0000-4000-8000-000000000000', workflowVersion: 1 });
    if (i >= 5) times.push(performance.now() - t0); // the first rounds warm the JIT
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!.toFixed(1);
  console.log(`compile: validate + compile a ${graph.nodes.length}-node, ${graph.edges.length}-edge canvas: p50 ${at(50)} ms p95 ${at(95)} ms (${ROUNDS} rounds, ${ROOT}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
