// `npm run temporal`: the Temporal dev server for one machine, with its state in DATA_DIR/temporal.db
// and Tessera's search attributes registered. Plain ESM so it runs before node_modules exists.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';

// Every run is tagged with these so operators can find it in the Temporal UI (DESIGN §1, "operators").
// test/global-setup.ts registers the same list.
export const TESSERA_SEARCH_ATTRIBUTES = ['TenantId', 'TesseraWorkflowId', 'ExecutionId'];

/** Splits "host:port" (also "[::1]:port"); the port falls back to defaultPort. */
export function parseHostPort(address, defaultPort) {
  const match = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(address.trim());
  const host = match?.[1] || '127.0.0.1';
  const port = match?.[2] ? Number(match[2]) : defaultPort;
  return { host, port };
}

export function temporalSettings(env = process.env) {
  const address = env.TEMPORAL_ADDRESS || '127.0.0.1:7233';
  const { host, port } = parseHostPort(address, 7233);
  return {
    address,
    host,
    port,
    uiPort: Number(env.TEMPORAL_UI_PORT || port + 1000),
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    // The UI decodes payloads through the API's codec endpoint (docs/security.md "Temporal payloads").
    codecEndpoint: `http://localhost:${env.PORT || 3000}/api/v1/temporal-codec`,
    dataDir: path.resolve(repoRoot, env.DATA_DIR || '.data'),
  };
}

export function temporalDevServerArgs(settings) {
  return [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(settings.port),
    '--ui-port', String(settings.uiPort),
    '--ui-codec-endpoint', settings.codecEndpoint,
    '--db-filename', path.join(settings.dataDir, 'temporal.db'),
    // WAL with synchronous=normal: about twice the runs/s of SQLite's defaults on the same file, and a
    // committed transaction still survives a restart of the server (docs/operations.md, "Temporal dev server").
    '--sqlite-pragma', 'journal_mode=wal',
    '--sqlite-pragma', 'synchronous=normal',
    // Eager activity execution: the server hands an activity to the worker that scheduled it in the answer to
    // its workflow task, saving a poll round trip per agent turn (docs/operations.md).
    '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
    '--namespace', settings.namespace,
    ...TESSERA_SEARCH_ATTRIBUTES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    '--log-level', 'warn',
  ];
}

/** Starts the dev server; the caller owns the child process. */
export async function spawnTemporalDevServer({ env = process.env, stdio = 'inherit', detached = false } = {}) {
  const cli = await ensureTemporalCli();
  const settings = temporalSettings(env);
  mkdirSync(settings.dataDir, { recursive: true });
  const child = spawn(cli, temporalDevServerArgs(settings), { cwd: repoRoot, env, stdio, detached });
  return { child, settings };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    const { child, settings } = await spawnTemporalDevServer();
    console.log(`[temporal] dev server on 127.0.0.1:${settings.port}, UI on http://localhost:${settings.uiPort}, data in ${settings.dataDir}`);
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
    child.on('error', (error) => {
      console.error(`[temporal] could not start: ${error.message}`);
      process.exit(1);
    });
    child.on('exit', (code, signal) => {
      process.exit(code ?? 128 + (os.constants.signals[signal] ?? 1));
    });
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
