// The activity interceptor that times every activity execution of the worker (local ones too) by activity type
// and outcome. Installed inside the tenant gate (worker/create-worker.ts), so a wait for the tenant's turn is not
// counted as the activity's own time.
import { CancelledFailure, type Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import type { WorkerMetrics } from './metrics';

export function activityMetricsInterceptor(metrics: Pick<WorkerMetrics, 'activityFinished'>): (ctx: Context) => { inbound: ActivityInboundCallsInterceptor } {
  return (ctx) => ({
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
        const started = performance.now();
        const seconds = () => (performance.now() - started) / 1000;
        try {
          const result = await next(input);
          metrics.activityFinished(ctx.info.activityType, 'succeeded', seconds());
          return result;
        } catch (err) {
          const cancelled = err instanceof CancelledFailure || ctx.cancellationSignal.aborted;
          metrics.activityFinished(ctx.info.activityType, cancelled ? 'cancelled' : 'failed', seconds());
          throw err;
        }
      },
    },
  });
}
