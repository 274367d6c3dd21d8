// The activities of a map node's coordinator (workflows/map-run.ts, core/map-run.ts): the inputs of a segment
// of items, evaluated by the worker's bounded evaluation threads (never in the workflow sandbox), and the
// node's output read back at the end from the item runs' own execution rows, so the coordinator's history
// never has to carry every item's result across continue-as-new.
import { ApplicationFailure } from '@temporalio/common';
import type { TemplateScope } from '../core/template';
import { OUTPUT_TOO_LARGE, formatBytes, jsonBytes } from '../core/limits';
import { DEFAULT_MAP_MAX_ITEMS, MAP_ITEM_INPUT_INVALID, mapItemFailure, mapItemRunKey, mapItemsProblem, type MapItemFailure, type MapOutput } from '../core/map-run';
import { ExecutionRepository, type TenantScope } from '../db';
import { derivedUuid } from './child-run';
import type { EvaluationPool } from './evaluation';

export interface MapRunActivityDeps {
  scope: TenantScope;
  evaluation: EvaluationPool;
  /** The longest list a map node takes (MAP_MAX_ITEMS). */
  mapMaxItems?: number;
}

export interface MapItemInputsRequest {
  itemInput: string;
  inputs: Record<string, unknown>;
  /** The segment's items; `from` is the index of the first. */
  items: unknown[];
  from: number;
  /** The whole list's length (checked against MAP_MAX_ITEMS). */
  total: number;
  nowMs: number;
}

/** Per item of the segment: the run's inputs, or why the item fails without a run. */
export type MapItemInputs = Array<{ inputs: Record<string, unknown> } | { failure: MapItemFailure }>;

export interface MapResultsRequest {
  tenantId: string;
  parentExecutionId: string;
  nodeId: string;
  total: number;
  failures: MapItemFailure[];
}

/** Item rows read per statement. */
const RESULTS_READ_CHUNK = 1_000;

export function createMapRunActivities(deps: MapRunActivityDeps) {
  const { scope, evaluation } = deps;
  const maxItems = deps.mapMaxItems ?? DEFAULT_MAP_MAX_ITEMS;
  const executions = new ExecutionRepository(scope);
  const { nodeOutputMaxBytes } = evaluation.limits;

  return {
    /** The inputs of a segment's item runs; a list over MAP_MAX_ITEMS fails the map (not retried). */
    async mapItemInputs(request: MapItemInputsRequest): Promise<MapItemInputs> {
      const problem = mapItemsProblem(new Array<unknown>(request.total), maxItems);
      if (problem) throw ApplicationFailure.nonRetryable(problem.message, problem.code);
      const field = { kind: 'expression' as const, source: request.itemInput };
      return Promise.all(
        request.items.map(async (item, i) => {
          const index = request.from + i;
          // `nodes` is empty: the coordinator does not carry the parent's node outputs (build the items from them instead).
          const scope = { inputs: request.inputs, nodes: {}, item, index } as TemplateScope;
          const outcome = await evaluation.evaluate(field, scope, request.nowMs);
          if (!outcome.ok) return { failure: mapItemFailure(index, MAP_ITEM_INPUT_INVALID, `itemInput of item ${index}: ${outcome.message}`) };
          const value = outcome.json === null ? undefined : (JSON.parse(outcome.json) as unknown);
          if (value === null || typeof value !== 'object' || Array.isArray(value)) {
            return { failure: mapItemFailure(index, MAP_ITEM_INPUT_INVALID, `itemInput of item ${index} must give an object (the item run's inputs), it gave ${Array.isArray(value) ? 'an array' : value === undefined || value === null ? 'nothing' : typeof value}`) };
          }
          return { inputs: value as Record<string, unknown> };
        }),
      );
    },

    /**
     * The node's output: each item run's outputs in item order (null for an item that failed), read from the
     * runs' rows; an output over NODE_OUTPUT_MAX_BYTES fails the map with OUTPUT_TOO_LARGE.
     */
    async mapResults(request: MapResultsRequest): Promise<MapOutput> {
      const ids = Array.from({ length: request.total }, (_, i) => derivedUuid(mapItemRunKey(request.parentExecutionId, request.nodeId, i)));
      const byId = new Map<string, unknown>();
      await scope.run(request.tenantId, async () => {
        for (let at = 0; at < ids.length; at += RESULTS_READ_CHUNK) {
          for (const row of await executions.outcomes(ids.slice(at, at + RESULTS_READ_CHUNK))) {
            if (row.status === 'succeeded') byId.set(row.id, row.outputs ?? {});
          }
        }
      });
      const output: MapOutput = { results: ids.map((id) => byId.get(id) ?? null), failures: [...request.failures].sort((a, b) => a.index - b.index) };
      const bytes = jsonBytes(output);
      if (bytes > nodeOutputMaxBytes) {
        throw ApplicationFailure.nonRetryable(
          `the map's output is ${formatBytes(bytes)}, above the ${formatBytes(nodeOutputMaxBytes)} limit (NODE_OUTPUT_MAX_BYTES=${nodeOutputMaxBytes})`,
          OUTPUT_TOO_LARGE,
        );
      }
      return output;
    },
  };
}
