// The evaluation processes and the evaluateNodes activity on their own: every limit ends one evaluation with
// its code, and the pool goes on evaluating. Runs the real processes (evaluator.cjs registers tsx in each).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { EVALUATION_ERROR, type EvaluateNodesInput } from '../../core/evaluation-protocol';
import { EXPRESSION_LIMIT, OUTPUT_TOO_LARGE } from '../../core/limits';
import { createEvaluationActivities } from './evaluate-nodes';
import { EvaluationPool } from './pool';

jest.setTimeout(60_000);

const scope = { inputs: { topic: 'otters' }, nodes: { draft: { text: 'hello' } } };
/** 64 million iterations: some 40 s of work, far beyond any time limit here. */
const endless = { kind: 'template' as const, source: '{{#each inputs}}{{#each ../inputs}}{{#each ../../inputs}}x{{/each}}{{/each}}{{/each}}' };
const endlessScope = { inputs: Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`k${i}`, i])), nodes: {} };
let pool: EvaluationPool;

beforeAll(() => {
  pool = new EvaluationPool({ threads: 1, limits: { expressionTimeoutMs: 1_000, expressionMemoryMb: 64, nodeOutputMaxBytes: 64 * 1024, runOutputsMaxBytes: 100 * 1024 } });
});

afterAll(() => pool.close());

describe('EvaluationPool', () => {
  test('evaluates templates, expressions and conditions over the scope, as JSON', async () => {
    await expect(pool.evaluate({ kind: 'template', source: 'About {{inputs.topic}}' }, scope, 0)).resolves.toEqual({ ok: true, json: '"About otters"', bytes: 14 });
    await expect(pool.evaluate({ kind: 'expression', source: '{"n": $length(nodes.draft.text)}' }, scope, 0)).resolves.toMatchObject({ ok: true, json: '{"n":5}' });
    await expect(pool.evaluate({ kind: 'condition', source: 'nodes.draft.text' }, scope, 0)).resolves.toMatchObject({ ok: true, json: 'true' });
    await expect(pool.evaluate({ kind: 'expression', source: '$millis()' }, scope, 42)).resolves.toMatchObject({ json: '42' });
    await expect(pool.evaluate({ kind: 'expression', source: 'nodes.ghost' }, scope, 0)).resolves.toEqual({ ok: true, json: null, bytes: 0 });
  });

  test('the step budget, the depth guard and V8 string limits are EXPRESSION_LIMIT', async () => {
    const steps = await pool.evaluate({ kind: 'expression', source: '($f := function($n){ $f($n + 1) }; $f(0))' }, scope, 0);
    expect(steps).toEqual({ ok: false, code: EXPRESSION_LIMIT, message: expect.stringContaining('EXPRESSION_MAX_STEPS=250000') });
    const depth = await pool.evaluate({ kind: 'expression', source: '($f := function($n){ 1 + $f($n + 1) }; $f(0))' }, scope, 0);
    expect(depth).toMatchObject({ ok: false, code: EXPRESSION_LIMIT, message: expect.stringContaining('depth') });
    const huge = await pool.evaluate({ kind: 'expression', source: '$pad("x", 1000000000)' }, scope, 0);
    expect(huge).toMatchObject({ ok: false, code: EXPRESSION_LIMIT });
  });

  test('a text that runs over its time ends its process, and the next text is evaluated by a new one', async () => {
    const slow = await pool.evaluate(endless, endlessScope, 0);
    expect(slow).toEqual({ ok: false, code: EXPRESSION_LIMIT, message: 'evaluation took longer than 1000 ms (EXPRESSION_TIMEOUT_MS=1000)' });
    await expect(pool.evaluate({ kind: 'template', source: 'still {{inputs.topic}}' }, scope, 0)).resolves.toMatchObject({ ok: true, json: '"still otters"' });
  });

  test('a text that needs more memory than the process may have is EXPRESSION_LIMIT', async () => {
    // A time limit out of reach, so the heap limit is what ends it however slowly the collector gives up.
    const roomy = new EvaluationPool({ threads: 1, limits: { expressionTimeoutMs: 60_000, expressionMemoryMb: 64 } });
    try {
      const out = await roomy.evaluate({ kind: 'expression', source: '[1..30].$pad("x", 10000000)' }, scope, 0);
      expect(out).toEqual({ ok: false, code: EXPRESSION_LIMIT, message: 'evaluation needed more than 64 MB of memory (EXPRESSION_MEMORY_MB=64)' });
      await expect(roomy.evaluate({ kind: 'expression', source: '1' }, scope, 0)).resolves.toMatchObject({ ok: true, json: '1' });
    } finally {
      await roomy.close();
    }
  });

  test('time waiting for a process does not count: a text queued behind two that run out of time still succeeds', async () => {
    // One process: the last text waits 2 s for it, twice its own time limit.
    const outcomes = await Promise.all([
      pool.evaluate(endless, endlessScope, 0),
      pool.evaluate(endless, endlessScope, 0),
      pool.evaluate({ kind: 'expression', source: '1 + 1' }, scope, 0),
    ]);
    expect(outcomes.slice(0, 2).map((o) => !o.ok && o.message)).toEqual([expect.stringContaining('EXPRESSION_TIMEOUT_MS'), expect.stringContaining('EXPRESSION_TIMEOUT_MS')]);
    expect(outcomes[2]).toEqual({ ok: true, json: '2', bytes: 1 });
  });

  test('a text that exhausts its memory 20 times in a row leaves the hosting process alive and the pool answering', async () => {
    // The pool runs in a process of its own (test/fixtures/evaluation-pool-host.ts): were a text's
    // out-of-memory to abort the pool's host (nodejs/node#47224, as with threads), that process would die, not Jest.
    const host = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../test/fixtures/evaluation-pool-host.ts'), '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    host.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    host.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => host.on('exit', (c, s) => resolve([c, s])));
    const outcomes = stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);
    const memory = { ok: false, code: EXPRESSION_LIMIT, message: 'evaluation needed more than 16 MB of memory (EXPRESSION_MEMORY_MB=16)' };
    expect({ code, signal, answered: outcomes.length, heapOutOfMemory: (stderr.match(/JavaScript heap out of memory/g) ?? []).length }).toEqual({ code: 0, signal: null, answered: 21, heapOutOfMemory: 20 });
    expect(outcomes).toEqual([...Array.from({ length: 20 }, () => memory), { ok: true, json: '2', bytes: 1 }]);
  }, 600_000);

  test('a value above NODE_OUTPUT_MAX_BYTES is OUTPUT_TOO_LARGE; one JSON cannot hold is an evaluation error', async () => {
    const big = await pool.evaluate({ kind: 'expression', source: '$pad("", 70000, "x")' }, scope, 0);
    expect(big).toEqual({ ok: false, code: OUTPUT_TOO_LARGE, message: 'the value is 68.4 KiB, above the 64 KiB limit (NODE_OUTPUT_MAX_BYTES=65536)' });
    const fn = await pool.evaluate({ kind: 'expression', source: 'function($x){ $x }' }, scope, 0);
    expect(fn).toMatchObject({ ok: false, code: EVALUATION_ERROR });
    const wrong = await pool.evaluate({ kind: 'expression', source: '"a" + 1' }, scope, 0);
    expect(wrong).toMatchObject({ ok: false, code: EVALUATION_ERROR, message: expect.stringContaining('must evaluate to a number') });
  });
});

describe('evaluateNodes', () => {
  const evaluateNodes = (input: Omit<EvaluateNodesInput, 'scope' | 'nowMs'>) => createEvaluationActivities({ evaluation: pool }).evaluateNodes({ scope, nowMs: 0, ...input });
  const text = (bytes: number) => ({ kind: 'expression' as const, source: `$pad("", ${bytes - 2}, "x")` });

  test('answers per node: values by field, or the failure of its first failing field', async () => {
    const { results } = await evaluateNodes({
      usedBytes: { run: 0, outputs: 0 },
      nodes: [
        { nodeId: 'ask', fields: { prompt: { kind: 'template', source: 'On {{inputs.topic}}' }, system: { kind: 'template', source: 'Be brief' } } },
        { nodeId: 'bad', fields: { value: { kind: 'expression', source: '($f := function($n){ $f($n + 1) }; $f(0))' } } },
      ],
    });
    expect(results.ask).toEqual({ status: 'evaluated', values: { prompt: 'On otters', system: 'Be brief' }, bytes: 21 });
    expect(results.bad).toMatchObject({ status: 'failed', code: EXPRESSION_LIMIT });
  });

  test("results beyond one node's cap are deferred to the next call, so the result stays one payload", async () => {
    const { results } = await evaluateNodes({
      usedBytes: { run: 0, outputs: 0 },
      nodes: [
        { nodeId: 'a', fields: { value: text(40_000) } },
        { nodeId: 'b', fields: { value: text(40_000) } },
      ],
    });
    expect(results.a).toMatchObject({ status: 'evaluated', bytes: 40_000 });
    expect(results.b).toEqual({ status: 'deferred' });
  });

  test("RUN_OUTPUTS_MAX_BYTES counts what the run already holds; an output node also counts toward the run's outputs", async () => {
    const { results } = await evaluateNodes({
      usedBytes: { run: 90 * 1024, outputs: 60 * 1024 },
      nodes: [
        { nodeId: 'over-run', fields: { value: text(20 * 1024) } },
        { nodeId: 'over-outputs', fields: { value: text(5 * 1024) }, runOutput: true },
      ],
    });
    expect(results['over-run']).toMatchObject({ status: 'failed', code: OUTPUT_TOO_LARGE, message: expect.stringContaining('RUN_OUTPUTS_MAX_BYTES=102400') });
    expect(results['over-outputs']).toMatchObject({ status: 'failed', code: OUTPUT_TOO_LARGE, message: expect.stringContaining("the run's outputs") });
  });
});
