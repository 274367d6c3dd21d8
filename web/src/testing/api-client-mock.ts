// A stand-in for api/client in the Vitest specs of stores and components: it records every request and
// answers each with the next scripted answer (null when none is left). A spec mocks the client with it:
//   vi.mock('../api/client', () => import('../testing/api-client-mock'));
// and reads `api.calls` / scripts with `answer(...)`; `resetApi()` in beforeEach.

export interface ApiCall {
  method: string;
  path: string;
  body?: unknown;
}

export const api = { calls: [] as ApiCall[], answers: [] as (() => Promise<unknown>)[] };

export function apiRequest(method: string, path: string, opts: { body?: unknown } = {}): Promise<unknown> {
  api.calls.push({ method, path, ...(opts.body !== undefined ? { body: opts.body } : {}) });
  const next = api.answers.shift();
  return next ? next() : Promise.resolve(null);
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The next requests answer these values, in order. */
export function answer(...values: unknown[]): void {
  for (const v of values) api.answers.push(() => Promise.resolve(v));
}

export function resetApi(): void {
  api.calls = [];
  api.answers = [];
}
