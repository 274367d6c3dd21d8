// Prometheus metrics of an API process at GET /metrics: process defaults, HTTP requests by route and status,
// runs started by trigger type, approvals decided, webhook deliveries by outcome, open WebSocket connections.
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  /** Counts and times every request; the route label is Express's route pattern, never a raw URL. */
  track: RequestHandler;
  runsStarted: Counter<'created' | 'trigger'>;
  approvalsDecided: Counter<'decision'>;
  webhookDeliveries: Counter<'outcome'>;
  wsConnections: Gauge;
}

/** `wsClients` is read at each scrape (the hub is attached after the app is built). */
export function createApiMetrics(wsClients: () => number): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tessera_api_' });
  const requests = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const runsStarted = new Counter({
    name: 'tessera_runs_started_total',
    help: 'Runs started through this API by trigger type (manual, api, retry, webhook); created=false for idempotent replays',
    labelNames: ['created', 'trigger'],
    registers: [registry],
  });
  const approvalsDecided = new Counter({
    name: 'tessera_approvals_decided_total',
    help: 'Approvals decided through this API, by decision (approve, reject)',
    labelNames: ['decision'],
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: 'tessera_webhook_deliveries_total',
    help: 'Webhook deliveries (POST /hooks/:id) by outcome: started, replayed, bad_signature, unknown_hook, rate_limited, rejected, error',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const wsConnections = new Gauge({
    name: 'tessera_ws_connections',
    help: 'Open WebSocket connections',
    registers: [registry],
    collect() {
      this.set(wsClients());
    },
  });

  const track: RequestHandler = (req, res, next) => {
    const end = requests.startTimer();
    res.on('finish', () => {
      // Unmatched requests share one label, so scanners cannot blow up the series count.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
  return { registry, track, runsStarted, approvalsDecided, webhookDeliveries, wsConnections };
}
