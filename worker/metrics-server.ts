// GET /metrics of a worker process (WORKER_METRICS_PORT): the worker's own prom-client registry, then Temporal
// Core's metrics, which Core serves on a loopback port of its own and this server reads at each scrape, so one
// scrape target has both (docs/decisions.md "Worker metrics").
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, type Registry } from 'prom-client';

/** A scrape waits this long for Core's metrics before it answers without them. */
const CORE_SCRAPE_TIMEOUT_MS = 2000;

export interface WorkerMetricsServerOptions {
  registry: Registry;
  /** 0: a free port (read it from the answer). */
  port: number;
  host?: string;
  /** Core's Prometheus endpoint (Runtime.install's bindAddress + /metrics); absent: the worker's metrics only. */
  coreMetricsUrl?: string;
  onCoreScrapeError?: (err: unknown) => void;
}

export interface WorkerMetricsServer {
  port: number;
  close(): Promise<void>;
}

/** A port nothing listens on right now on the loopback interface, for Core's exporter (it cannot report one it picked). */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startWorkerMetricsServer(opts: WorkerMetricsServerOptions): Promise<WorkerMetricsServer> {
  const coreUp = new Gauge({
    name: 'tessera_worker_temporal_metrics_up',
    help: "1 when the last scrape read Temporal Core's metrics, 0 when it could not",
    registers: [opts.registry],
  });

  async function coreMetrics(): Promise<string> {
    if (!opts.coreMetricsUrl) return '';
    try {
      const res = await fetch(opts.coreMetricsUrl, { signal: AbortSignal.timeout(CORE_SCRAPE_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`Core's metrics answered ${res.status}`);
      const text = await res.text();
      coreUp.set(1);
      return text;
    } catch (err) {
      coreUp.set(0);
      opts.onCoreScrapeError?.(err);
      return '';
    }
  }

  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'only GET /metrics is served here', details: {} } }));
      return;
    }
    // Core's first, so the gauge the registry prints says how this very scrape went.
    coreMetrics()
      .then(async (core) => {
        const own = await opts.registry.metrics();
        res.writeHead(200, { 'content-type': opts.registry.contentType }).end(core ? `${own}\n${core}` : own);
      })
      .catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}`);
      });
  });
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
