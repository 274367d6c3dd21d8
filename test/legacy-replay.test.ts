// In-flight runs survive the deploy of the run machine (issue 10): histories recorded from the interpreter
// that last landed (51439c9, by test/fixtures/histories/record.ts) replay without a determinism error on
// today's workflow bundle, which sends a history without the `run-machine` patch marker to the frozen
// legacy interpreter (workflows/legacy/).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../worker/create-worker';
import { historyFromCliJson } from './support/history-json';

const DIR = path.join(__dirname, 'fixtures/histories');
const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

jest.setTimeout(180_000);

test('the recorded histories cover approval waits, retries, failure fan-out, cancellation and a turn in flight', () => {
  expect(FIXTURES).toEqual([
    'agent-retries-succeeded.json',
    'approval-approved.json',
    'approval-timed-out-fail.json',
    'approval-waiting.json',
    'cancelled-mid-turn.json',
    'failure-fan-out.json',
    'fan-out-condition-succeeded.json',
    'mid-turn.json',
  ]);
});

test('every history recorded under 51439c9 replays on the current workflows', async () => {
  const workflowBundle = await bundleWorkflows();
  const histories = FIXTURES.map((f) => ({ workflowId: f.replace(/\.json$/, ''), history: historyFromCliJson(JSON.parse(readFileSync(path.join(DIR, f), 'utf8'))) }));
  const results: { workflowId: string; error: string | null }[] = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle }, histories)) {
    results.push({ workflowId: r.workflowId, error: r.error ? String(r.error) : null });
  }
  expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: null })));
});
