// What the run view shows of a tool-using agent's loop: the rounds its events told (core/run-view.ts), each
// call completed from the node's stored output once it succeeded ({toolCalls: [{id, name, arguments, result?,
// error?}]}, DESIGN.md §8): the events carry a result's first characters, the output the whole of it.
import type { RoundView, ToolCallView } from '../../../../core/run-view';

export interface ShownCall extends ToolCallView {
  /** The whole result from the stored output; `undefined` while only the events' preview is known. */
  result: unknown;
}

export interface ShownRound {
  /** null: calls the output lists but no event told (a run whose events were not all read). */
  round: number | null;
  model: RoundView['model'] | null;
  calls: ShownCall[];
}

interface StoredCall {
  id: string;
  name: string;
  arguments: unknown;
  result?: unknown;
  error?: string;
}

/** The rounds to show: the events' rounds, their calls completed from `output`, then calls only the output knows. */
export function agentRounds(rounds: readonly RoundView[], output: unknown): ShownRound[] {
  const stored = storedCalls(output);
  const byId = new Map(stored.map((c) => [c.id, c]));
  const seen = new Set<string>();
  const shown: ShownRound[] = rounds.map((r) => ({
    round: r.round,
    model: r.model,
    calls: r.calls.map((call) => {
      seen.add(call.id);
      const s = byId.get(call.id);
      if (!s) return { ...call, result: undefined };
      return { ...call, result: s.error === undefined ? s.result : undefined, error: s.error ?? call.error };
    }),
  }));
  const rest = stored.filter((c) => !seen.has(c.id));
  if (rest.length) {
    shown.push({
      round: null,
      model: null,
      calls: rest.map((c) => ({
        id: c.id,
        name: c.name,
        arguments: c.arguments,
        status: c.error === undefined ? 'succeeded' : 'failed',
        durationMs: null,
        preview: null,
        resultBytes: null,
        error: c.error ?? null,
        startedAt: null,
        finishedAt: null,
        result: c.error === undefined ? c.result : undefined,
      })),
    });
  }
  return shown;
}

function storedCalls(output: unknown): StoredCall[] {
  if (typeof output !== 'object' || output === null) return [];
  const calls = (output as { toolCalls?: unknown }).toolCalls;
  if (!Array.isArray(calls)) return [];
  return calls.filter((c): c is StoredCall => typeof c === 'object' && c !== null && typeof c.id === 'string' && typeof c.name === 'string');
}

/** The next model call is in flight: the node runs and its last round's calls have all ended. */
export function nextModelCallRunning(rounds: readonly RoundView[], nodeStatus: string | undefined): boolean {
  const last = rounds[rounds.length - 1];
  if (nodeStatus !== 'running' || !last) return false;
  return last.model.status === 'succeeded' && last.calls.length > 0 && last.calls.every((c) => c.finishedAt !== null);
}

/** A value as text: strings as they are, everything else as pretty JSON. Shown as text, never as HTML. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2) ?? String(value);
}

export function formatDuration(ms: number | null): string | null {
  if (ms === null) return null;
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Longer results are shown folded to their first characters until the user opens them. */
export const RESULT_FOLD_CHARS = 400;
