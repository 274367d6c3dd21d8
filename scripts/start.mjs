// `npm start`: brings the whole stack up on one machine (Temporal dev server, migrations, worker, api),
// prefixes every child's output with its name, and stops them all on Ctrl-C or when one of them dies.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { ensureDeps, repoRoot } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';
import { ensureSystemPackages } from './system-packages.mjs';
import { parseHostPort, spawnTemporalDevServer, temporalSettings } from './temporal.mjs';

const STOP_GRACE_MS = 10_000;
const TEMPORAL_START_TIMEOUT_MS = 60_000;
const API_READY_TIMEOUT_MS = 120_000;
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '0.0.0.0', '']);
const COLORS = { start: 0, temporal: 35, migrate: 33, worker: 36, api: 32 };
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;

function say(name, line, stream = process.stdout) {
  const tag = `[${name}]`;
  stream.write(`${useColor ? `\x1b[${COLORS[name] ?? 0}m${tag}\x1b[0m` : tag} ${line}\n`);
}

class StartFailed extends Error {}

/** Children run in their own process group so stopping one also stops what it spawned (npm → sh → tsx → node). */
class Supervisor {
  children = new Map();
  stopping = false;
  onUnexpectedExit = () => {};

  run(name, command, args, options = {}) {
    const child = spawn(command, args, {
      cwd: repoRoot,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      ...options,
    });
    this.adopt(name, child);
    return child;
  }

  adopt(name, child) {
    for (const [stream, target] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      if (stream) readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => say(name, line, target));
    }
    const exited = new Promise((resolve) => {
      child.once('error', (error) => {
        say(name, `could not start: ${error.message}`, process.stderr);
        resolve({ code: 1, signal: null });
      });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const entry = { child, exited, oneShot: false };
    this.children.set(name, entry);
    exited.then(({ code, signal }) => {
      this.signalGroup(child, 'SIGKILL'); // anything the child left behind in its group
      this.children.delete(name);
      if (this.stopping || (entry.oneShot && code === 0)) return;
      this.onUnexpectedExit(name, code === null ? `signal ${signal}` : `code ${code}`);
    });
    return entry;
  }

  /** Runs a child to completion (e.g. migrations); rejects when it fails. */
  async runToCompletion(name, command, args) {
    this.run(name, command, args);
    const entry = this.children.get(name);
    entry.oneShot = true;
    const { code, signal } = await entry.exited;
    if (code !== 0) throw new StartFailed(`${name} failed (${code === null ? `signal ${signal}` : `exit code ${code}`})`);
  }

  signalGroup(child, signal) {
    try {
      if (process.platform === 'win32') child.kill(signal);
      else process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  async stop(names = [...this.children.keys()]) {
    await Promise.all(
      names.map(async (name) => {
        const entry = this.children.get(name);
        if (!entry) return;
        this.signalGroup(entry.child, 'SIGTERM');
        const timer = setTimeout(() => {
          say('start', `${name} did not stop within ${STOP_GRACE_MS / 1000}s; killing it`);
          this.signalGroup(entry.child, 'SIGKILL');
        }, STOP_GRACE_MS);
        await entry.exited;
        clearTimeout(timer);
      }),
    );
  }

  async stopAll() {
    this.stopping = true;
    // Api and worker first, so the worker can finish its tasks against a Temporal that is still up.
    await this.stop([...this.children.keys()].filter((name) => name !== 'temporal'));
    await this.stop();
  }
}

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
  say('start', `starting the Temporal dev server on 127.0.0.1:${settings.port} (state in ${path.join(settings.dataDir, 'temporal.db')})`);
  await waitFor('Temporal listening', TEMPORAL_START_TIMEOUT_MS, async () => {
    if (exited) throw new StartFailed('the Temporal dev server exited during startup');
    return isListening('127.0.0.1', settings.port);
  });
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

async function main() {
  const port = process.env.PORT || '3000';
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/tessera';
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const temporalUiUrl = process.env.TEMPORAL_UI_URL || `http://localhost:${process.env.TEMPORAL_UI_PORT || 8233}`;

  const supervisor = new Supervisor();
  let shuttingDown;
  const shutdown = (exitCode, reason) => {
    shuttingDown ??= (async () => {
      say('start', reason);
      await supervisor.stopAll();
      process.exit(exitCode);
    })();
    return shuttingDown;
  };
  process.on('SIGINT', () => void shutdown(0, 'stopping (SIGINT)'));
  process.on('SIGTERM', () => void shutdown(0, 'stopping (SIGTERM)'));
  supervisor.onUnexpectedExit = (name, how) => void shutdown(1, `${name} exited unexpectedly (${how}); stopping the rest`);

  try {
    ensureDeps();
    ensureSystemPackages();
    await ensureTemporalCli();
    await ensurePostgres(databaseUrl);
    await ensureRedis(redisUrl);
    say('start', `Postgres at ${redacted(databaseUrl)} and Redis at ${redacted(redisUrl)} are reachable`);
    await ensureTemporal(supervisor);
    await supervisor.runToCompletion('migrate', 'npm', ['run', '--silent', 'migrate']);
    supervisor.run('worker', 'npm', ['run', '--silent', 'worker']);
    supervisor.run('api', 'npm', ['run', '--silent', 'api']);
    await waitForApi(port, supervisor);
  } catch (error) {
    if (shuttingDown) return shuttingDown;
    // Failures here are about the machine (a service down, no CLI), so the message is what helps, not a stack.
    say('start', error instanceof Error ? error.message : String(error), process.stderr);
    return shutdown(1, 'start failed; stopping what was started');
  }
  if (shuttingDown) return shuttingDown;

  const { port: temporalPort } = parseHostPort(process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233', 7233);
  say('start', 'Tessera is up (Ctrl-C stops everything):');
  say('start', `  app          http://localhost:${port}/`);
  say('start', `  API docs     http://localhost:${port}/api/docs`);
  say('start', `  Temporal UI  ${temporalUiUrl}   (gRPC on port ${temporalPort})`);
}

await main();
