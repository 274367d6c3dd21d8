// The `runAgentTurn` activity: one LLM turn of an agent node. It first records the ledger the run hands it
// (what the run has to say so far, this attempt's `running` row among it), then calls the model.
// Provider errors become Temporal failures: retryable ones (429, 5xx, timeouts) are retried by the
// node's retry policy, the rest fail the node at once with the provider's own message.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ProviderName } from '../core/graph';
import { DEFAULT_RUN_LIMITS, OUTPUT_TOO_LARGE, formatBytes, jsonBytes, type RunLimits } from '../core/limits';
import { ProviderError, isAbortError, type AgentTurnRequest, type AgentTurnResult, type LlmProvider, type TokenUsage } from './llm';
import type { CallOutcome } from './activity-metrics';
import type { Ledger } from '../core/run-ledger';
import type { ModelToolCall, ToolSpec, WorkflowToolRef } from '../core/tool-loop';
import type { WorkflowToolParameters } from './tools/workflow-tool-parameters';
import { argumentProblems, compileToolParameters } from '../core/tool-schema';
import { writeProgress, type ProgressDeps } from './progress';
import { createDeltaBuffer } from './llm/delta-buffer';

export interface AgentTurnInput {
  tenantId: string;
  executionId: string;
  nodeId: string;
  maximumAttempts: number;
  /**
   * The attempt, counted by the run machine (which retries: Temporal makes one attempt). Absent from a run
   * started before issue 10 (workflows/legacy): Temporal retries it and the turn writes its own progress.
   */
  attempt?: number;
  /** What the run has yet to record (this attempt's `running` row among it): written before the model is called. */
  ledger?: Ledger;
  /** Bytes the run's node outputs already hold (RUN_OUTPUTS_MAX_BYTES counts this turn's output on top). */
  runOutputBytes?: number;
  /** A tool-using agent's calls so far: its output will hold them besides this turn's answer. */
  toolCallBytes?: number;
  /** The round its streamed text's delta messages carry (a conversation's turn); null: it streams nothing (a speaker selection); absent: the tool loop's round. */
  deltaRound?: number | null;
  /** MCP servers whose tools the model is offered besides `request.tools`, listed by this turn. */
  mcpServers?: { serverId: string; tools?: string[] }[];
  /** Workflow tools among `request.tools`: this turn offers them with their child's trigger inputs as parameters. */
  workflowTools?: WorkflowToolRef[];
  credentialId?: string;
  request: Omit<AgentTurnRequest, 'apiKey' | 'baseURL'>;
}

export type AgentTurnOutput = AgentTurnResult;

/** Resolves a tenant credential to its secret and the server it is for; null when there is no such credential. */
export type CredentialResolver = (
  tenantId: string,
  credentialId: string,
  provider: ProviderName,
) => Promise<{ secret: string; baseUrl: string | null } | null>;

/** The few structured log lines a turn writes (pino's shape); never given prompts, outputs or secrets. */
export interface TurnLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Lists a tenant's MCP server's tools (activities/tools: through the SSRF-safe client, with its credential). */
export type McpToolLister = (tenantId: string, serverId: string) => Promise<{ name: string; description?: string; inputSchema: Record<string, unknown> }[]>;

export interface AgentTurnDeps extends ProgressDeps {
  providers: Record<ProviderName, LlmProvider>;
  mcpTools?: McpToolLister;
  workflowToolParameters?: WorkflowToolParameters;
  resolveCredential?: CredentialResolver;
  logger?: TurnLogger;
  now?: () => Date;
  /** Caps of a turn's output (default DEFAULT_RUN_LIMITS): it becomes a node output and one history payload. */
  outputLimits?: Pick<RunLimits, 'nodeOutputMaxBytes' | 'runOutputsMaxBytes'>;
}

export const PROVIDER_ERROR_TYPE = 'ProviderError';

/** A workflow tool's spec takes its child's trigger inputs; one whose workflow is not found keeps any object (the call says why). */
async function withWorkflowParameters(specs: ToolSpec[], tenantId: string, tools: WorkflowToolRef[], parametersOf: WorkflowToolParameters): Promise<ToolSpec[]> {
  const byName = new Map(tools.map((t) => [t.name, t]));
  return Promise.all(
    specs.map(async (spec) => {
      const tool = byName.get(spec.name);
      const parameters = tool ? await parametersOf(tenantId, tool) : null;
      return parameters ? { ...spec, parameters } : spec;
    }),
  );
}

/** Each call's arguments against its tool's schema, before any tool runs: a misfit goes back to the model. */
function checkArguments(calls: ModelToolCall[], tools: ToolSpec[]): ModelToolCall[] {
  return calls.map((call) => {
    if (call.argumentError !== undefined) return call;
    const spec = tools.find((t) => t.name === call.name);
    if (!spec) return call; // the run machine answers a call of an unknown tool
    // A schema that does not compile (an MCP server's in a dialect ajv does not take) checks nothing: the
    // validator already refused such schemas on http tools.
    const compiled = compileToolParameters(spec.parameters);
    const problem = compiled.ok === true ? argumentProblems(compiled.validate, call.arguments) : null;
    return problem === null ? call : { ...call, argumentError: problem };
  });
}

export function createAgentTurnActivities(deps: AgentTurnDeps) {
  const now = deps.now ?? (() => new Date());
  const { nodeOutputMaxBytes, runOutputsMaxBytes } = deps.outputLimits ?? DEFAULT_RUN_LIMITS;

  /** Refuses an output that would not fit a payload or the run's budget; retrying would only pay for it again. */
  function checkOutputSize(result: AgentTurnResult, runOutputBytes: number, toolCallBytes: number): void {
    const bytes = jsonBytes(result) + toolCallBytes;
    if (bytes > nodeOutputMaxBytes) {
      throw ApplicationFailure.nonRetryable(
        `the agent's output is ${formatBytes(bytes)}, above the ${formatBytes(nodeOutputMaxBytes)} limit (NODE_OUTPUT_MAX_BYTES=${nodeOutputMaxBytes})`,
        OUTPUT_TOO_LARGE,
      );
    }
    if (runOutputBytes + bytes > runOutputsMaxBytes) {
      throw ApplicationFailure.nonRetryable(
        `the run's node outputs would reach ${formatBytes(runOutputBytes + bytes)}, above the ${formatBytes(runOutputsMaxBytes)} limit (RUN_OUTPUTS_MAX_BYTES=${runOutputsMaxBytes})`,
        OUTPUT_TOO_LARGE,
      );
    }
  }

  /** The credential's key and server as request fields; none when the node names no credential. */
  async function resolveCredential(input: AgentTurnInput): Promise<Pick<AgentTurnRequest, 'apiKey' | 'baseURL'>> {
    if (!input.credentialId) return {};
    const found = deps.resolveCredential ? await deps.resolveCredential(input.tenantId, input.credentialId, input.request.provider) : null;
    if (!found) {
      throw ApplicationFailure.nonRetryable(`credential ${input.credentialId} not found for provider ${input.request.provider}`, PROVIDER_ERROR_TYPE);
    }
    return { apiKey: found.secret, ...(found.baseUrl ? { baseURL: found.baseUrl } : {}) };
  }

  /**
   * The tools the model is offered: the plan's named ones, then each MCP server's (those the agent names, or
   * all), a name already taken left out. Also which server each MCP tool is on, for the calls.
   */
  async function offeredTools(input: AgentTurnInput): Promise<{ specs: ToolSpec[]; servers: Map<string, string> }> {
    const specs = [...(input.request.tools ?? [])];
    const servers = new Map<string, string>();
    for (const { serverId, tools } of input.mcpServers ?? []) {
      if (!deps.mcpTools) throw ApplicationFailure.nonRetryable('this worker has no MCP client: MCP tools cannot run here', PROVIDER_ERROR_TYPE);
      let listed: Awaited<ReturnType<McpToolLister>>;
      try {
        listed = await deps.mcpTools(input.tenantId, serverId);
      } catch (err) {
        const retryable = (err as { retryable?: unknown }).retryable === true;
        throw ApplicationFailure.create({ message: `the tools of MCP server ${serverId} could not be listed: ${err instanceof Error ? err.message : String(err)}`, type: PROVIDER_ERROR_TYPE, nonRetryable: !retryable });
      }
      for (const t of listed) {
        if ((tools && !tools.includes(t.name)) || specs.some((s) => s.name === t.name)) continue;
        // The dialect line goes: ajv's default dialect checks the schema, and providers do not need it.
        const parameters = Object.fromEntries(Object.entries(t.inputSchema).filter(([key]) => key !== '$schema'));
        specs.push({ name: t.name, ...(t.description ? { description: t.description } : {}), parameters: { type: 'object', ...parameters } });
        servers.set(t.name, serverId);
      }
    }
    return { specs, servers };
  }

  return {
    async runAgentTurn(input: AgentTurnInput): Promise<AgentTurnOutput> {
      const ctx = Context.current();
      const legacy = input.attempt === undefined;
      const attempt = input.attempt ?? ctx.info.attempt;
      const { tenantId, executionId, nodeId } = input;
      const startedAt = now().toISOString();
      if (input.ledger) await writeProgress(deps, { tenantId, executionId, ...input.ledger });
      if (legacy) await writeProgress(deps, {
        tenantId,
        executionId,
        nodes: [
          {
            nodeId,
            status: 'running',
            attempts: attempt,
            input: { system: input.request.system ?? null, prompt: input.request.prompt },
            ...(attempt === 1 ? { startedAt } : {}),
          },
        ],
        events: attempt === 1 ? [{ type: 'node.started', nodeId, at: startedAt, data: { attempt }, key: `node:${nodeId}:started` }] : [],
      });

      const logFields = { tenantId, executionId, nodeId, attempt, provider: input.request.provider, model: input.request.model };
      const llm = deps.providers[input.request.provider];
      let result: AgentTurnResult;
      // Streamed text goes to subscribed sockets through Redis only (never stored, never in history). The round
      // is the loop's: one assistant turn per earlier round.
      const publishDelta = deps.publisher.publishDelta?.bind(deps.publisher);
      const round = input.deltaRound ?? (input.request.turns ?? []).filter((t) => t.role === 'assistant').length + 1;
      const deltas = publishDelta && !legacy && input.deltaRound !== null
        ? createDeltaBuffer((text) => publishDelta(tenantId, { type: 'delta', executionId, nodeId, round, attempt, text }))
        : undefined;
      let offered: { specs: ToolSpec[]; servers: Map<string, string> } = { specs: [], servers: new Map() };
      // Set once the request goes to the provider: a turn that fails before (no credential) made no model call.
      let callStarted: number | null = null;
      const observeCall = (outcome: CallOutcome, usage?: TokenUsage) => {
        if (callStarted === null) return;
        deps.metrics?.llmCall({ provider: input.request.provider, model: input.request.model, outcome, seconds: (performance.now() - callStarted) / 1000, ...(usage ? { usage } : {}) });
      };
      try {
        const credential = await resolveCredential(input);
        offered = input.mcpServers?.length ? await offeredTools(input) : { specs: input.request.tools ?? [], servers: new Map() };
        if (input.workflowTools?.length && deps.workflowToolParameters) offered = { ...offered, specs: await withWorkflowParameters(offered.specs, input.tenantId, input.workflowTools, deps.workflowToolParameters) };
        callStarted = performance.now();
        result = await llm.complete(
          { ...input.request, ...credential, ...(offered.specs.length ? { tools: offered.specs } : {}) },
          { signal: ctx.cancellationSignal, heartbeat: (d?: unknown) => ctx.heartbeat(d), ...(deltas ? { onDelta: (text: string) => deltas.push(text) } : {}) },
        );
        await deltas?.close();
        observeCall('succeeded', result.usage);
      } catch (err) {
        await deltas?.close();
        if (isAbortError(err) || ctx.cancellationSignal.aborted) {
          observeCall('cancelled');
          throw new CancelledFailure('agent turn cancelled');
        }
        observeCall('failed');
        if (err instanceof ApplicationFailure) throw err;
        const retryable = err instanceof ProviderError ? err.retryable : true;
        const message = err instanceof Error ? err.message : String(err);
        deps.logger?.warn({ ...logFields, retryable, status: err instanceof ProviderError ? err.status : undefined, error: message }, 'agent turn failed');
        if (legacy && retryable && attempt < input.maximumAttempts) {
          await writeProgress(deps, {
            tenantId,
            executionId,
            events: [
              {
                type: 'node.retrying',
                nodeId,
                at: now().toISOString(),
                data: { attempt, nextAttempt: attempt + 1, error: message },
                key: `node:${nodeId}:retrying:${attempt}`,
              },
            ],
          });
        }
        const provider = err instanceof ProviderError ? err : null;
        throw ApplicationFailure.create({
          message,
          type: PROVIDER_ERROR_TYPE,
          nonRetryable: !retryable,
          // retryAfterMs reaches the run machine here: a workflow does not see nextRetryDelay.
          details: provider ? [{ provider: provider.provider, status: provider.status ?? null, code: provider.code ?? null, retryAfterMs: provider.retryAfterMs ?? null }] : [],
          // A provider's Retry-After beats our backoff: retrying sooner only earns another 429.
          ...(retryable && provider?.retryAfterMs ? { nextRetryDelay: provider.retryAfterMs } : {}),
        });
      }

      if (result.toolCalls) {
        const calls = result.toolCalls.map((c) => {
          const serverId = offered.servers.get(c.name);
          return serverId !== undefined ? { ...c, mcpServerId: serverId } : c;
        });
        result = { ...result, toolCalls: checkArguments(calls, offered.specs) };
      }
      checkOutputSize(result, input.runOutputBytes ?? 0, input.toolCallBytes ?? 0);
      const finishedAt = now().toISOString();
      deps.logger?.info({ ...logFields, ms: Date.parse(finishedAt) - Date.parse(startedAt), usage: result.usage }, 'agent turn succeeded');
      // A run of the machine records the turn's end itself, with the next thing it carries.
      if (!legacy) return result;
      await writeProgress(deps, {
        tenantId,
        executionId,
        nodes: [{ nodeId, status: 'succeeded', attempts: attempt, output: result, usage: result.usage, finishedAt }],
        events: [
          {
            type: 'node.succeeded',
            nodeId,
            at: finishedAt,
            data: { attempt, usage: result.usage, textPreview: result.text.slice(0, 500) },
            key: `node:${nodeId}:succeeded`,
          },
        ],
      });
      return result;
    },
  };
}
