// Prometheus metrics of a worker process (prom-client, as the API's server/metrics.ts): process defaults,
// activities by type and outcome, model calls and tokens by provider and model, tool calls by type and
// outcome, runs by end status. worker/metrics-server.ts serves them with Temporal Core's own at GET /metrics.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ActivityMetrics, CallOutcome } from '../activities/activity-metrics';

/** Distinct model names labelled per provider; the model is a canvas field, so later ones share `other`. */
export const MODEL_LABELS_PER_PROVIDER = 50;
const MODEL_LABEL_MAX_LENGTH = 100;

const SECONDS_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface WorkerMetrics {
  registry: Registry;
  /** Handed to createActivities: what the activities observe themselves. */
  activities: ActivityMetrics;
  /** Observed by the activity interceptor (worker/activity-metrics-interceptor.ts). */
  activityFinished(activityType: string, outcome: CallOutcome, seconds: number): void;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tessera_worker_' });
  const activityDuration = new Histogram({
    name: 'tessera_worker_activity_duration_seconds',
    help: 'Activity executions by activity type and outcome (succeeded, failed, cancelled), waiting in the tenant gate excluded',
    labelNames: ['activity_type', 'outcome'],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const activityFailures = new Counter({
    name: 'tessera_worker_activity_failures_total',
    help: 'Activity executions that failed (Temporal may retry them), by activity type',
    labelNames: ['activity_type'],
    registers: [registry],
  });
  const llmCalls = new Counter({
    name: 'tessera_llm_calls_total',
    help: 'Model calls by provider, model and outcome',
    labelNames: ['provider', 'model', 'outcome'],
    registers: [registry],
  });
  const llmDuration = new Histogram({
    name: 'tessera_llm_call_duration_seconds',
    help: 'Model call latency (request to whole answer) by provider, model and outcome',
    labelNames: ['provider', 'model', 'outcome'],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const llmTokens = new Counter({
    name: 'tessera_llm_tokens_total',
    help: 'Tokens the providers reported, by provider, model and direction (input, output)',
    labelNames: ['provider', 'model', 'direction'],
    registers: [registry],
  });
  const toolCalls = new Counter({
    name: 'tessera_tool_calls_total',
    help: "Agents' tool calls by tool type (http, mcp) and outcome",
    labelNames: ['tool_type', 'outcome'],
    registers: [registry],
  });
  const toolDuration = new Histogram({
    name: 'tessera_tool_call_duration_seconds',
    help: "Agents' tool call latency by tool type and outcome",
    labelNames: ['tool_type', 'outcome'],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const runsEnded = new Counter({
    name: 'tessera_worker_runs_ended_total',
    help: 'Runs whose end this worker recorded, by status (succeeded, failed, cancelled, timed_out)',
    labelNames: ['status'],
    registers: [registry],
  });

  const modelsSeen = new Map<string, Set<string>>();
  /** The model as a label: its name while the provider has fewer than MODEL_LABELS_PER_PROVIDER, else `other`. */
  function modelLabel(provider: string, model: string): string {
    const name = model.slice(0, MODEL_LABEL_MAX_LENGTH);
    let seen = modelsSeen.get(provider);
    if (!seen) {
      seen = new Set();
      modelsSeen.set(provider, seen);
    }
    if (seen.has(name)) return name;
    if (seen.size >= MODEL_LABELS_PER_PROVIDER) return 'other';
    seen.add(name);
    return name;
  }

  return {
    registry,
    activities: {
      llmCall({ provider, model, outcome, seconds, usage }) {
        const labels = { provider, model: modelLabel(provider, model) };
        llmCalls.inc({ ...labels, outcome });
        llmDuration.observe({ ...labels, outcome }, seconds);
        if (usage) {
          llmTokens.inc({ ...labels, direction: 'input' }, usage.inputTokens);
          llmTokens.inc({ ...labels, direction: 'output' }, usage.outputTokens);
        }
      },
      toolCall({ toolType, outcome, seconds }) {
        toolCalls.inc({ tool_type: toolType, outcome });
        toolDuration.observe({ tool_type: toolType, outcome }, seconds);
      },
      runEnded(status) {
        runsEnded.inc({ status });
      },
    },
    activityFinished(activityType, outcome, seconds) {
      activityDuration.observe({ activity_type: activityType, outcome }, seconds);
      if (outcome === 'failed') activityFailures.inc({ activity_type: activityType });
    },
  };
}
