// The build log an activity failure carries in its details (see activities/export/build-wheel.ts), for the
// export and deployment workflows that keep it on failure.
import { ApplicationFailure } from '@temporalio/workflow';

/** The `log` of the first ApplicationFailure in the cause chain that has one; '' when none does. */
export function failureLog(err: unknown): string {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure) {
      const detail = e.details?.[0] as { log?: unknown } | undefined;
      if (typeof detail?.log === 'string') return detail.log;
    }
  }
  return '';
}

