// The progress a canvas run has yet to write (node rows, events, the execution row), sent through the
// `recordProgress` activity in batches that each stay well under Temporal's 2 MiB payload limit: an
// activity's input is a history payload, and one refused payload would fail every later workflow task.
import type { RecordProgressInput } from '../activities';
import type { NewExecutionEvent } from '../core/events';
import { jsonBytes } from '../core/limits';

type NodeStateUpdate = NonNullable<RecordProgressInput['nodes']>[number];
export type ExecutionStateUpdate = NonNullable<RecordProgressInput['execution']>;
export type ApprovalUpdate = NonNullable<RecordProgressInput['approvals']>[number];
type Batch = Omit<RecordProgressInput, 'tenantId' | 'executionId'>;

/** A batch grows to about this size before it is sent (Temporal warns about payloads above 512 KiB). */
export const PROGRESS_BATCH_BYTES = 512 * 1024;

export class ProgressBuffer {
  private events: NewExecutionEvent[] = [];
  private nodes: NodeStateUpdate[] = [];
  private bytes = 0;

  constructor(private readonly write: (batch: Batch) => Promise<void>) {}

  node(update: NodeStateUpdate): void {
    this.nodes.push(update);
    this.bytes += jsonBytes(update);
  }

  event(event: NewExecutionEvent): void {
    this.events.push(event);
    this.bytes += jsonBytes(event);
  }

  /** Enough is buffered that the run should write it now rather than grow one batch further. */
  get full(): boolean {
    return this.bytes >= PROGRESS_BATCH_BYTES;
  }

  /**
   * Writes everything buffered, with `execution` and `approvals`. Usually one batch; a large one is split
   * into node rows first, then the execution row and approvals, then events, so a reader who sees an event
   * finds the rows it speaks of already written. Event keys make every write idempotent.
   */
  async flush(execution?: ExecutionStateUpdate, approvals?: ApprovalUpdate[]): Promise<void> {
    const nodes = this.nodes;
    const events = this.events;
    const extraBytes = (execution ? jsonBytes(execution) : 0) + (approvals?.length ? jsonBytes(approvals) : 0);
    const total = this.bytes + extraBytes;
    this.nodes = [];
    this.events = [];
    this.bytes = 0;
    if (!events.length && !nodes.length && !execution && !approvals?.length) return;
    const tail = { ...(execution ? { execution } : {}), ...(approvals?.length ? { approvals } : {}) };
    if (total <= PROGRESS_BATCH_BYTES) {
      await this.write({ events, nodes, ...tail });
      return;
    }
    for (const chunk of chunks(nodes)) await this.write({ events: [], nodes: chunk });
    if (execution || approvals?.length) await this.write({ events: [], nodes: [], ...tail });
    for (const chunk of chunks(events)) await this.write({ events: chunk, nodes: [] });
  }
}

/** Consecutive runs of `items` of at most PROGRESS_BATCH_BYTES each (an item larger than that goes alone). */
function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = jsonBytes(item);
    if (current.length && size + bytes > PROGRESS_BATCH_BYTES) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length) out.push(current);
  return out;
}
