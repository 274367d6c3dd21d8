// Feeding the run machine in unit tests (core/*.test.ts): a run from `started` on, every step's result kept.
import type { RunPlan } from '../../core/plan';
import { initialState, step, type Happening, type RunState, type StepResult } from '../../core/run-machine';

export const MACHINE_T0 = '2026-01-01T00:00:00.000Z';

/** Feeds `started` at MACHINE_T0, then the happenings in order; answers the last state and every step's result. */
export function feedMachine(plan: RunPlan, happenings: Happening[], inputs: Record<string, unknown> = { topic: 'tea' }): { state: RunState; steps: StepResult[] } {
  let state = initialState(plan, inputs);
  const steps: StepResult[] = [];
  for (const h of [{ type: 'started', at: MACHINE_T0 } as Happening, ...happenings]) {
    const r = step(plan, state, h);
    steps.push(r);
    state = r.state;
  }
  return { state, steps };
}

/** Each node's status by id. */
export const nodeStatuses = (s: RunState): Record<string, string> => Object.fromEntries(Object.entries(s.nodes).map(([id, n]) => [id, n.status]));
