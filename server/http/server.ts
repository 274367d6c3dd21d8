// The API's HTTP server: Node's server with the keep-alive and headers timeouts of the configuration, so an
// idle kept-alive socket outlives the 60 s idle timeouts of common clients and load balancers. Node's 5 s
// default closed sockets those were about to reuse ("other side closed").
import { createServer, type RequestListener, type Server } from 'node:http';
import type { TesseraConfig } from '../../core/config';

export function createHttpServer(app: RequestListener, timeouts: TesseraConfig['http']): Server {
  const server = createServer(app);
  server.keepAliveTimeout = timeouts.keepAliveTimeoutSeconds * 1000;
  // Above keepAliveTimeout (config refuses otherwise): a request sent just before the socket's idle end
  // still gets its headers read.
  server.headersTimeout = timeouts.headersTimeoutSeconds * 1000;
  return server;
}
