// The http tools' server of the tool tests, on loopback: GET /lookup?q=… answers `{q, answer: "about <q>"}`,
// /redirect?to=… answers 302 to `to`, /big answers 200 KiB of text. Every request is recorded with when it
// arrived, when (if ever) it was answered, whether its caller went away first, and its Authorization header,
// so a test can say each tool call reached it exactly once (also across SIGKILLed workers).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ToolRequest {
  path: string;
  q: string | null;
  startedAt: number;
  endedAt?: number;
  /** The caller closed the connection before the answer (a killed worker). */
  aborted: boolean;
  authorization: string | null;
}

export interface ToolServer {
  url: string;
  requests: ToolRequest[];
  /** The requests for `q` that were answered. */
  answered(q: string): ToolRequest[];
  /** Never answers the first request for `q` (a worker is killed under it). */
  holdFirst(q: string): void;
  /** Answers nothing until this many requests are in flight at once (proves parallel calls). */
  holdUntil(count: number): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startToolServer(): Promise<ToolServer> {
  const requests: ToolRequest[] = [];
  const heldFirst = new Set<string>();
  let holdUntilCount = 0;
  const waiting: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = url.searchParams.get('q');
    const record: ToolRequest = { path: url.pathname, q, startedAt: Date.now(), aborted: false, authorization: req.headers.authorization ?? null };
    requests.push(record);
    res.on('close', () => {
      if (record.endedAt === undefined) record.aborted = true;
    });
    if (url.pathname === '/redirect') {
      record.endedAt = Date.now();
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/' });
      res.end();
      return;
    }
    if (url.pathname === '/big') {
      record.endedAt = Date.now();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(200 * 1024));
      return;
    }
    const answer = (): void => {
      if (res.destroyed) return;
      record.endedAt = Date.now();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ q, answer: `about ${q}` }));
    };
    if (q !== null && heldFirst.delete(q)) return;
    if (holdUntilCount > 0) {
      waiting.push(answer);
      const inFlight = requests.filter((r) => r.endedAt === undefined && !r.aborted).length;
      if (inFlight >= holdUntilCount) {
        holdUntilCount = 0;
        for (const go of waiting.splice(0)) go();
      }
      return;
    }
    answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    answered: (q) => requests.filter((r) => r.q === q && r.endedAt !== undefined),
    holdFirst: (q) => heldFirst.add(q),
    holdUntil: (count) => {
      holdUntilCount = count;
    },
    reset: () => {
      requests.length = 0;
      heldFirst.clear();
      holdUntilCount = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
