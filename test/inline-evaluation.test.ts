// Inline templates are rendered by the workflow itself (issue 10: one activity per agent turn and no other):
// the README canvas runs with no evaluation local activity, a wave with any other text still goes to the
// evaluators, the caps apply the same, and runs begun before the change replay from their recorded histories.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporalWorkflowId } from '../core/events';
import { bundleWorkflows } from '../worker/create-worker';
import { historyFromCliJson } from './support/history-json';
import { createWorkflow, registerTenant, startRun, waitForExecution, type TestSession } from './support/session';
import { startTestStack, type TestStack } from './support/stack';

jest.setTimeout(180_000);

const DIR = path.join(__dirname, 'fixtures/machine-histories');
const node = (id: string, type: string, data: Record<string, unknown>, x = 0) => ({ id, type, position: { x, y: 0 }, data });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });
const trigger = node('start', 'trigger', { inputs: { topic: { type: 'string', default: 'tea' } } });

/** trigger → agent → output, with the given texts (the README canvas by default). */
function chain(prompt = 'Write about {{inputs.topic}}', value = '{{nodes.draft.text}}') {
  return {
    nodes: [trigger, node('draft', 'agent', { provider: 'echo', model: 'echo-1', prompt }, 250), node('done', 'output', { value }, 500)],
    edges: [edge('start', 'draft'), edge('draft', 'done')],
  };
}

let stack: TestStack;
let owner: TestSession;

beforeAll(async () => {
  stack = await startTestStack({ limits: { nodeOutputMaxBytes: 1024 } });
  owner = await registerTenant(stack);
});

afterAll(async () => stack?.close());

async function run(graph: unknown, inputs: Record<string, unknown>) {
  const workflowId = await createWorkflow(stack, owner, graph);
  const executionId = await startRun(stack, owner, workflowId, inputs);
  const execution = await waitForExecution(stack, owner, executionId);
  // The row is final before the workflow task that wrote it completes: the history is read once Temporal says the run closed.
  const handle = stack.temporal.workflow.getHandle(temporalWorkflowId(owner.tenantId, executionId));
  await handle.result().catch(() => undefined);
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  return {
    execution,
    localActivities: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
    activities: events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name),
  };
}

test('the README canvas runs one agent activity and only the local activity that records its end', async () => {
  const { execution, localActivities, activities } = await run(chain(), { topic: 'otters' });
  expect(execution.status).toBe('succeeded');
  expect(execution.outputs).toEqual({ done: expect.stringContaining('Write about otters') });
  expect(activities).toEqual(['runAgentTurn']);
  // Before: an evaluation for the prompt, one for the output, and the end record.
  expect(localActivities).toBe(1);
});

test('a wave with a text that is not an inline template is evaluated by the evaluation activity, as before', async () => {
  const { execution, localActivities } = await run(chain('{{#if inputs.topic}}Write about {{inputs.topic}}{{/if}}', '{{nodes.draft.text}}!'), { topic: 'otters' });
  expect(execution.status).toBe('succeeded');
  expect(execution.outputs.done).toMatch(/Write about otters.*!$/);
  // The prompt's wave goes to the evaluators; the output's is inline; and the end record.
  expect(localActivities).toBe(2);
});

test('an inline text above NODE_OUTPUT_MAX_BYTES fails its node with the evaluators’ error', async () => {
  const { execution } = await run(chain(), { topic: 'x'.repeat(1500) });
  expect(execution.status).toBe('failed');
  expect(execution.error).toEqual(
    expect.objectContaining({ code: 'OUTPUT_TOO_LARGE', message: 'agent node draft: the value is 1.5 KiB, above the 1 KiB limit (NODE_OUTPUT_MAX_BYTES=1024)' }),
  );
});

/**
 * The history as if the run had been started by an API that already records the caps in the plan, while the
 * worker that ran it did not render inline yet (a rolling deploy): the start event's plan gains `limits`.
 */
function startedWithLimits(json: any): any {
  const copy = structuredClone(json);
  const payload = copy.events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
  const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'));
  input.plan.limits = { nodeOutputMaxBytes: 1024 * 1024, runOutputsMaxBytes: 8 * 1024 * 1024 };
  payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
  return copy;
}

test('histories recorded before inline evaluation replay on the current workflows', async () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  expect(files).toEqual(['approval-waiting.json', 'readme-succeeded.json', 'turn-in-flight.json']);
  const recorded = files.map((f) => ({ name: f.replace(/\.json$/, ''), json: JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) }));
  const histories = [
    ...recorded.map((r) => ({ workflowId: r.name, history: historyFromCliJson(r.json) })),
    ...recorded.map((r) => ({ workflowId: `${r.name}-plan-with-limits`, history: historyFromCliJson(startedWithLimits(r.json)) })),
  ];
  const results: { workflowId: string; error: string | null }[] = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: await bundleWorkflows() }, histories)) {
    results.push({ workflowId: r.workflowId, error: r.error ? String(r.error) : null });
  }
  expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: null })));
});
