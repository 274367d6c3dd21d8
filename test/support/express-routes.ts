// What an Express app really serves: every `METHOD /path` under /api/v1, found by walking its router stack,
// so tests can hold the route table (server/openapi.ts API_ROUTES) and the document against it.
import type { Express } from 'express';

/** Every `method /path` the app answers under /api/v1 (the /api/v1 prefix left off), in stack order. */
export function expressRoutes(app: Express): string[] {
  const found: string[] = [];
  interface Layer {
    rawPath?: unknown;
    route?: { path: unknown; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  }
  const walk = (layers: Layer[], prefix: string): void => {
    for (const layer of layers) {
      if (layer.route) {
        if (typeof layer.route.path !== 'string') throw new Error(`a route under ${prefix} has a non-string path; the route table cannot list it`);
        for (const method of Object.keys(layer.route.methods)) found.push(`${method} ${(prefix + layer.route.path).replace(/\/$/, '') || '/'}`);
      } else if (layer.handle?.stack) {
        const mount = layer.rawPath === undefined || layer.rawPath === '/' ? '' : layer.rawPath;
        if (typeof mount !== 'string') throw new Error(`a router under ${prefix} is mounted at a non-string path`);
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  const router = (app as unknown as { router: { stack: Layer[] } }).router;
  walk(router.stack, '');
  return found.filter((r) => r.split(' ')[1]!.startsWith('/api/v1/')).map((r) => r.replace(' /api/v1', ' '));
}
