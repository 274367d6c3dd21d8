// A worker for the bench's hand-written workflows on a task queue of its own, in the bench's process.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';

export const TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
export const TEMPORAL_NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';

export const bareActivities = {
  async noop(i: number): Promise<number> {
    return i;
  },
};
export type BareActivities = typeof bareActivities;

export async function temporalClient(): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address: TEMPORAL_ADDRESS }), namespace: TEMPORAL_NAMESPACE });
}

export interface BareWorker {
  taskQueue: string;
  /** Runs `bareChain(count)` to its end. */
  runChain(count: number): Promise<void>;
  /** Starts `bareChain(count)` and returns once Temporal has accepted it (what a POST of a run waits for). */
  startChain(count: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startBareWorker(client: Client): Promise<BareWorker> {
  const taskQueue = `bench-bare-${randomBytes(3).toString('hex')}`;
  const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: TEMPORAL_NAMESPACE,
    taskQueue,
    workflowsPath: require.resolve('./bare-workflows'),
    activities: bareActivities,
  });
  const running = worker.run();
  return {
    taskQueue,
    async runChain(count: number): Promise<void> {
      await client.workflow.execute('bareChain', { taskQueue, workflowId: `${taskQueue}-${randomBytes(6).toString('hex')}`, args: [count] });
    },
    async startChain(count: number): Promise<void> {
      await client.workflow.start('bareChain', { taskQueue, workflowId: `${taskQueue}-${randomBytes(6).toString('hex')}`, args: [count] });
    },
    async stop(): Promise<void> {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
