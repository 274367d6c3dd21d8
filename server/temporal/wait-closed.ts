// Waiting for a workflow to close, bounded: the API's cancel and stop calls answer once the workflow has
// recorded its end, or after `timeoutMs` with whatever the row says then. Resolves either way.
import type { WorkflowHandle } from '@temporalio/client';

export async function waitClosed(handle: Pick<WorkflowHandle, 'result'>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([handle.result().then(() => undefined, () => undefined), timeout]);
  clearTimeout(timer);
}
