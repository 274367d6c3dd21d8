// A workflow tool call's answer for each way its run can stand when the wait is over (the integration test,
// test/mcp-endpoint.test.ts, covers success, approval and failure against a real stack; this covers the rest).
import type { ExecutionView } from '../../core/api-views';
import { AppError } from '../../core/errors';
import type { Principal } from '../auth/principal';
import { runWorkflowTool, type RunToolDeps } from './run-tool';

const editor: Principal = { userId: 'u1', tenantId: 't1', role: 'editor', email: 'e@example.com', kind: 'api_key', apiKeyId: 'k1' };

function view(status: ExecutionView['status']): ExecutionView {
  return {
    id: 'run-1',
    workflowId: 'w1',
    workflowVersion: 1,
    status,
    inputs: {},
    outputs: null,
    error: null,
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    startedBy: 'api_key:k1',
    trigger: { type: 'mcp' },
    cancelledBy: null,
    createdAt: '2026-12-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    temporal: { workflowId: 'x', runId: null, uiUrl: 'http://x' },
  };
}

function deps(statuses: ExecutionView['status'][], extra: Partial<RunToolDeps> = {}): RunToolDeps & { starts: unknown[][] } {
  const starts: unknown[][] = [];
  let reads = 0;
  return {
    starts,
    waitMs: 1000,
    executions: {
      start: async (...args: unknown[]) => {
        starts.push(args);
        return { execution: view('pending'), created: true };
      },
      get: async () => view(statuses[Math.min(reads++, statuses.length - 1)]!),
    } as unknown as RunToolDeps['executions'],
    ...extra,
  };
}

const text = (r: { content: unknown }) => (r.content as { text: string }[])[0]!.text;

test('a run still going when the wait is over answers with its id and says it goes on', async () => {
  const d = deps(['pending', 'running']);
  const result = await runWorkflowTool(d, editor, 'w1', { topic: 'x' }, new AbortController().signal);
  expect(result.isError).toBeUndefined();
  expect(result.structuredContent).toEqual({ executionId: 'run-1', status: 'running' });
  expect(text(result)).toContain('did not finish within 1 s and goes on');
  expect(d.starts).toEqual([['t1', 'api_key:k1', 'w1', { inputs: { topic: 'x' } }, null, { type: 'mcp' }]]);
});

test('a client that gives up ends the wait at once, the run going on', async () => {
  const d = deps(['running'], { waitMs: 60_000 });
  const abort = new AbortController();
  const call = runWorkflowTool(d, editor, 'w1', {}, abort.signal);
  abort.abort();
  await expect(call).resolves.toMatchObject({ structuredContent: { status: 'running' } });
});

test('a cancelled run is an error result; a refused start says why and starts nothing', async () => {
  const cancelled = await runWorkflowTool(deps(['cancelled']), editor, 'w1', {}, new AbortController().signal);
  expect(cancelled.isError).toBe(true);
  expect(text(cancelled)).toBe('The run run-1 ended cancelled: no error was recorded');

  const refusing = deps(['running']);
  refusing.executions.start = async () => {
    throw new AppError('GRAPH_INVALID', 422, 'version 1 of this workflow has validation problems');
  };
  const refused = await runWorkflowTool(refusing, editor, 'w1', {}, new AbortController().signal);
  expect(refused.isError).toBe(true);
  expect(text(refused)).toBe('The run was not started: version 1 of this workflow has validation problems (GRAPH_INVALID)');
});

test('a rate limit refusal comes back as an error result before any start', async () => {
  const d = deps(['succeeded'], {
    countRunStart: async () => {
      throw new AppError('TOO_MANY_REQUESTS', 429, 'too many run starts');
    },
  });
  const result = await runWorkflowTool(d, editor, 'w1', {}, new AbortController().signal);
  expect(result.isError).toBe(true);
  expect(d.starts).toEqual([]);
});
