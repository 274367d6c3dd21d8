// `npm start`: brings the whole stack up on one machine (web build, Temporal dev server, migrations, worker,
// api), prefixes every child's output with its name, restarts a worker or api that dies, and stops everything
// on Ctrl-C, or when Temporal (the dev server it started) or Postgres is lost.
import net from 'node:net';
import path from 'node:path';
import { ensureDeps, repoRoot } from './ensure-deps.mjs';
import { Supervisor } from './supervisor.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';
import { ensureSystemPackages } from './system-packages.mjs';
import { parseHostPort, spawnTemporalDevServer, temporalSettings } from './temporal.mjs';
import { ensureWebBuilt, webDistDir } from './web-build.mjs';

const TEMPORAL_START_TIMEOUT_MS = 60_000;
const API_READY_TIMEOUT_MS = 120_000;
// Postgres is probed this often once the stack is up; this many failed probes in a row stop the stack.
const POSTGRES_PROBE_INTERVAL_MS = 5_000;
const POSTGRES_LOST_AFTER_FAILURES = 3;
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '0.0.0.0', '']);
const COLORS = { start: 0, web: 34, temporal: 35, migrate: 33, worker: 36, api: 32 };
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;

function say(name, line, stream = process.stdout) {
  const tag = `[${name}]`;
  stream.write(`${useColor ? `\x1b[${COLORS[name] ?? 0}m${tag}\x1b[0m` : tag} ${line}\n`);
}

class StartFailed extends Error {}

function isListening(host, port, timeoutMs = 1_000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: host === '0.0.0.0' || host === '' ? '127.0.0.1' : host, port });
    const done = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitFor(description, timeoutMs, check) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new StartFailed(`${description} did not happen within ${timeoutMs / 1000}s`);
}

function redacted(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

async function ensurePostgres(databaseUrl) {
  const { default: pg } = await import('pg');
  const tryConnect = async (url) => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  };
  try {
    const client = await tryConnect(databaseUrl);
    await client.end();
  } catch (error) {
    if (error.code !== '3D000') {
      throw new StartFailed(
        `Postgres is not reachable at ${redacted(databaseUrl)}: ${error.message || error.code}\n` +
          '  Start PostgreSQL (e.g. `sudo service postgresql start`, or `docker compose up -d postgres`) or set DATABASE_URL.',
      );
    }
    // 3D000: the server answers but the database does not exist yet; create it from the maintenance db.
    const database = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
    const maintenanceUrl = new URL(databaseUrl);
    maintenanceUrl.pathname = '/postgres';
    const admin = await tryConnect(maintenanceUrl.toString());
    try {
      say('start', `creating database "${database}"`);
      await admin.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
    } finally {
      await admin.end();
    }
  }
}

async function ensureRedis(redisUrl) {
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 5_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {}); // reported through connect() below
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new StartFailed(
      `Redis is not reachable at ${redacted(redisUrl)}: ${error.message}\n` +
        '  Start Redis (e.g. `sudo service redis-server start`, or `docker compose up -d redis`) or set REDIS_URL.',
    );
  } finally {
    redis.disconnect();
  }
}

async function ensureTemporal(supervisor) {
  const settings = temporalSettings();
  if (await isListening(settings.host, settings.port)) {
    say('start', `Temporal already listens on ${settings.address}; using it`);
    return;
  }
  if (!LOCAL_HOSTS.has(settings.host)) {
    throw new StartFailed(`Temporal is not reachable at TEMPORAL_ADDRESS=${settings.address}, and it is not this machine, so it cannot be started here.`);
  }
  const { child } = await spawnTemporalDevServer({ stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
  const entry = supervisor.adopt('temporal', child);
  let exited = false;
  entry.exited.then(() => (exited = true));
  say('start', `starting the Temporal dev server on 127.0.0.1:${settings.port} (pid ${child.pid}; state in ${path.join(settings.dataDir, 'temporal.db')})`);
  await waitFor('Temporal listening', TEMPORAL_START_TIMEOUT_MS, async () => {
    if (exited) throw new StartFailed('the Temporal dev server exited during startup');
    return isListening('127.0.0.1', settings.port);
  });
}

/**
 * Probes Postgres every few seconds while the stack runs and calls `onLost` after several failed probes in
 * a row: without it no run can start or finish, and restarting the worker and api would only loop.
 * Returns a function that stops the probing.
 */
function watchPostgres(databaseUrl, onLost) {
  let failures = 0;
  let timer;
  let stopped = false;
  const probe = async () => {
    let client;
    try {
      const { default: pg } = await import('pg');
      client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000, query_timeout: 3_000, application_name: 'tessera-start' });
      client.on('error', () => {}); // the connection dropping after the probe; the next probe reports it
      await client.connect();
      await client.query('select 1');
      failures = 0;
    } catch (error) {
      failures += 1;
      if (failures >= POSTGRES_LOST_AFTER_FAILURES) {
        stopped = true;
        onLost(`Postgres at ${redacted(databaseUrl)} is unreachable (${error.message || error.code}; ${failures} checks in a row)`);
      }
    } finally {
      await client?.end().catch(() => {});
    }
    if (!stopped) timer = setTimeout(probe, POSTGRES_PROBE_INTERVAL_MS);
  };
  timer = setTimeout(probe, POSTGRES_PROBE_INTERVAL_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

async function waitForApi(port, supervisor) {
  const url = `http://127.0.0.1:${port}/health/ready`;
  await waitFor(`${url} answering 200`, API_READY_TIMEOUT_MS, async () => {
    if (!supervisor.children.has('api')) throw new StartFailed('the api exited before it was ready');
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return response.status === 200;
    } catch {
      return false;
    }
  });
}

/**
 * JWT_SECRET and ENCRYPTION_KEY for every child (api, worker, migrate): the environment's, or else the ones
 * generated once into DATA_DIR/secrets/stack.json (0600) and reused on every later start (core/stack-secrets.ts).
 */
async function ensureSecrets() {
  if (process.env.JWT_SECRET && process.env.ENCRYPTION_KEY) return;
  // One implementation for start and the processes that read the file; node_modules (tsx) exists by now.
  const { tsImport } = await import('tsx/esm/api');
  const { ensureStackSecrets, stackSecretsFile } = await tsImport('../core/stack-secrets.ts', import.meta.url);
  const file = stackSecretsFile({ DATA_DIR: path.resolve(repoRoot, process.env.DATA_DIR || '.data') });
  const { secrets, created } = ensureStackSecrets(file);
  const from = [];
  for (const name of ['JWT_SECRET', 'ENCRYPTION_KEY']) {
    if (process.env[name]) continue;
    process.env[name] = secrets[name];
    from.push(name);
  }
  say('start', `${created ? 'generated' : 'using'} ${from.join(' and ')} ${created ? 'into' : 'from'} ${file} (owner-only, mode 0600); keep this file to keep sessions and the credentials vault`);
}

async function main() {
  const port = process.env.PORT || '3000';
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/tessera';
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const temporalUiUrl = process.env.TEMPORAL_UI_URL || `http://localhost:${process.env.TEMPORAL_UI_PORT || 8233}`;

  // Absolute, so the api (which resolves a relative one from its working directory) serves what was built.
  const webDist = webDistDir();
  process.env.WEB_DIST_DIR = webDist;

  const supervisor = new Supervisor({ say, cwd: repoRoot });
  const webBuild = new AbortController();
  let stopWatchingPostgres = () => {};
  let shuttingDown;
  const shutdown = (exitCode, reason, stream = process.stdout) => {
    shuttingDown ??= (async () => {
      say('start', reason, stream);
      webBuild.abort();
      stopWatchingPostgres();
      await supervisor.stopAll();
      process.exit(exitCode);
    })();
    return shuttingDown;
  };
  process.on('SIGINT', () => void shutdown(0, 'stopping (SIGINT)'));
  process.on('SIGTERM', () => void shutdown(0, 'stopping (SIGTERM)'));
  supervisor.onFatalExit = (name, how) =>
    void shutdown(
      1,
      name === 'temporal'
        ? `the Temporal dev server exited (${how}); stopping the stack`
        : `${name} exited during startup (${how}); stopping the rest`,
      process.stderr,
    );
  // Run as `node --import tsx <entry>` rather than `npm run <name>`: the supervised pid is then the process
  // itself, so a crash is seen as it happened (signal, exit code) and a restart replaces exactly it.
  const service = (entry) => [process.execPath, ['--import', 'tsx', entry]];

  try {
    ensureDeps();
    await ensureSecrets();
    ensureSystemPackages();
    await ensureTemporalCli();
    await ensurePostgres(databaseUrl);
    await ensureRedis(redisUrl);
    say('start', `Postgres at ${redacted(databaseUrl)} and Redis at ${redacted(redisUrl)} are reachable`);
    await ensureWebBuilt(webDist, { say: (line) => say('start', line), onLine: (line) => say('web', line, process.stderr), signal: webBuild.signal });
    await ensureTemporal(supervisor);
    await supervisor.runToCompletion('migrate', 'npm', ['run', '--silent', 'migrate']);
    supervisor.keep('worker', ...service('worker/main.ts'));
    supervisor.keep('api', ...service('server/main.ts'));
    await waitForApi(port, supervisor);
  } catch (error) {
    if (shuttingDown) return shuttingDown;
    // Failures here are about the machine (a service down, no CLI), so the message is what helps, not a stack.
    say('start', error instanceof Error ? error.message : String(error), process.stderr);
    return shutdown(1, 'start failed; stopping what was started');
  }
  if (shuttingDown) return shuttingDown;
  supervisor.enableRestarts();
  stopWatchingPostgres = watchPostgres(databaseUrl, (reason) => void shutdown(1, `${reason}; stopping the stack`, process.stderr));

  const { port: temporalPort } = parseHostPort(process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233', 7233);
  say('start', 'Tessera is up (Ctrl-C stops everything):');
  say('start', `  app          http://localhost:${port}/`);
  say('start', `  API docs     http://localhost:${port}/api/docs`);
  say('start', `  Temporal UI  ${temporalUiUrl}   (gRPC on port ${temporalPort})`);
}

await main();
