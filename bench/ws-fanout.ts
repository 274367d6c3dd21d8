// WebSocket fan-out: CLIENTS sockets on one API process subscribed to one run, against a running stack
// (`npm start`). The run (trigger → approval → 10 echo turns → output) waits on its approval until every
// client has subscribed; the bench then approves it and measures, for each event the clients receive live,
// the time from the event's `at` to its arrival. Prints delivery p50/p99 and the events that never came.
// Usage: npx tsx bench/ws-fanout.ts [clients=5000] (BASE_URL defaults to http://127.0.0.1:3000; the stack
// needs RATE_LIMIT_AUTH_PER_IP raised only if the bench is run many times).
import WebSocket from 'ws';
import { BASE_URL, call, loadAverage, percentile, pollUntilSucceeded, registerTenant, saveWorkflow, startRun } from './support/tessera-api';

const CLIENTS = Number(process.argv[2] ?? 5000);
const TURNS = 10;
const OPEN_AT_ONCE = 200;

function approvalChainGraph() {
  const nodes: Array<Record<string, unknown>> = [
    { id: 'start', type: 'trigger', position: { x: 0, y: 0 }, data: { inputs: {} } },
    { id: 'review', type: 'approval', position: { x: 200, y: 0 }, data: { title: 'Go?', timeoutSeconds: 3600, onTimeout: 'reject' } },
  ];
  const edges: Array<Record<string, unknown>> = [{ id: 'e0', source: 'start', target: 'review' }];
  let previous = 'review';
  for (let i = 1; i <= TURNS; i++) {
    nodes.push({ id: `t${i}`, type: 'agent', position: { x: 200 + i * 200, y: 0 }, data: { provider: 'echo', model: 'echo-1', prompt: `turn ${i}` } });
    edges.push({ id: `e${i}`, source: previous, target: `t${i}`, ...(previous === 'review' ? { sourceHandle: 'approved' } : {}) });
    previous = `t${i}`;
  }
  nodes.push({ id: 'out', type: 'output', position: { x: 200 + (TURNS + 1) * 200, y: 0 }, data: { value: '{{nodes.t10.text}}' } });
  edges.push({ id: 'eout', source: previous, target: 'out' });
  return { nodes, edges };
}

interface Client {
  ws: WebSocket;
  seqs: Set<number>;
}

async function main(): Promise<void> {
  const token = await registerTenant();
  const workflowId = await saveWorkflow(token, 'ws fan-out', approvalChainGraph());
  const executionId = (await startRun(token, workflowId)).id;
  for (;;) {
    const pending = await call('GET', `/approvals?status=pending&executionId=${executionId}`, token);
    if ((pending.body.items as unknown[]).length) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const wsUrl = `${BASE_URL.replace(/^http/, 'ws')}/api/v1/ws?token=${encodeURIComponent(token)}`;
  const latencies: number[] = [];
  let liveFrom = Number.POSITIVE_INFINITY;
  const clients: Client[] = [];
  const subscribeStart = performance.now();
  const open = (): Promise<Client> =>
    new Promise((resolve, reject) => {
      const client: Client = { ws: new WebSocket(wsUrl), seqs: new Set() };
      client.ws.on('open', () => client.ws.send(JSON.stringify({ type: 'subscribe', executionId, afterSeq: 0 })));
      client.ws.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as { type: string; event?: { seq: number; at: string } };
        if (msg.type === 'subscribed') resolve(client);
        else if (msg.type === 'event' && msg.event) {
          client.seqs.add(msg.event.seq);
          const at = Date.parse(msg.event.at);
          if (at >= liveFrom) latencies.push(Date.now() - at);
        } else if (msg.type === 'error') reject(new Error(JSON.stringify(msg)));
      });
      client.ws.on('error', reject);
    });
  for (let i = 0; i < CLIENTS; i += OPEN_AT_ONCE) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(OPEN_AT_ONCE, CLIENTS - i) }, open))));
  }
  const subscribeSeconds = (performance.now() - subscribeStart) / 1000;

  liveFrom = Date.now();
  const decided = await call('POST', `/executions/${executionId}/approvals/review`, token, { decision: 'approve' });
  if (decided.status !== 200) throw new Error(`decide: ${decided.status} ${JSON.stringify(decided.body)}`);
  let lastSeq = 0;
  await pollUntilSucceeded(token, executionId, 100);
  lastSeq = ((await call('GET', `/executions/${executionId}/events?after=0&limit=5000`, token)).body.lastSeq as number) ?? 0;
  // Every client has until 30 s after the run's end to receive its last event.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && clients.some((c) => c.seqs.size < lastSeq)) await new Promise((r) => setTimeout(r, 100));
  const missing = clients.reduce((n, c) => n + (lastSeq - c.seqs.size), 0);
  for (const c of clients) c.ws.terminate();

  console.log(
    `ws-fanout: ${CLIENTS} clients, one run of ${lastSeq} events (${latencies.length} live deliveries): delivery p50 ${percentile(latencies, 50)} ms p99 ${percentile(latencies, 99)} ms, ${missing} missing; subscribing took ${subscribeSeconds.toFixed(1)} s (load ${loadAverage()})`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
