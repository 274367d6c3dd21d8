// How a trigger reads in the editor: a schedule's timing in words, and how to sign a webhook delivery.
import type { ScheduleSpec } from '../../../../core/api-views';

/** "every 90 s", "every 2 h", or "cron 0 9 * * 1 (Europe/Paris)". */
export function describeSchedule(spec: ScheduleSpec): string {
  if ('cron' in spec) return `cron ${spec.cron} (${spec.timezone})`;
  const s = spec.intervalSeconds;
  if (s % 86_400 === 0) return `every ${s / 86_400} d`;
  if (s % 3600 === 0) return `every ${s / 3600} h`;
  if (s % 60 === 0) return `every ${s / 60} min`;
  return `every ${s} s`;
}

/** A shell example that POSTs a signed delivery to the hook (the secret goes in $SECRET). */
export function signingExample(url: string): string {
  return [
    `BODY='{}'  # the run's inputs as JSON`,
    `SIG=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //')`,
    `# a redelivery with the same X-Tessera-Delivery answers the same run; ?wait=10 waits up to 10 s for its outputs`,
    `curl -X POST '${url}?wait=10' -H 'Content-Type: application/json' \\`,
    `  -H "X-Tessera-Signature: sha256=$SIG" -H "X-Tessera-Delivery: delivery-1" -d "$BODY"`,
  ].join('\n');
}
