// A query's time range as the runs list and the analytics take it: `from` (inclusive) and `to` (exclusive),
// ISO 8601 instants with a zone, `from` before `to`.
import { z } from 'zod';

/** An ISO 8601 date and time with `Z` or an offset, as a query parameter. */
export function instantParam(name: string) {
  return z.iso.datetime({ offset: true, error: `${name} is an ISO 8601 date and time with a zone, e.g. 2026-03-01T00:00:00Z` });
}

/** `from` must come before `to`: the issue, on `from`, when it does not. */
export function rangeIssue(from: Date | undefined, to: Date | undefined): { code: 'custom'; path: string[]; message: string } | null {
  return from && to && from >= to ? { code: 'custom', path: ['from'], message: 'from must be before to' } : null;
}
