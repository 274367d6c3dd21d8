// Jest globalSetup: starts the one Temporal dev server (in memory, free ports, no UI) that every
// integration suite of the run shares, and publishes its address as TESSERA_TEST_TEMPORAL_ADDRESS.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TEST_TEMPORAL_ADDRESS_ENV, TEST_TEMPORAL_NAMESPACE } from './support/temporal';

// Same list as scripts/temporal.mjs registers for `npm run temporal`.
const SEARCH_ATTRIBUTES = ['TenantId', 'TesseraWorkflowId', 'ExecutionId'];
// A few seconds usually; the rest is for a machine busy with other work.
const STARTUP_TIMEOUT_MS = 60_000;
const STATE_FILE_PREFIX = 'tessera-test-temporal-';

/** What teardown (and scripts/test.mjs, should jest die before teardown) needs to stop the server. */
export interface TestTemporalServer {
  serverPid: number;
  ownerPid: number;
  address: string;
  logFile: string;
}

/** scripts/test.mjs names the state file so it can clean up after a jest that crashed. */
export function testTemporalStateFile(): string {
  return process.env.TESSERA_TEST_TEMPORAL_STATE_FILE ?? path.join(os.tmpdir(), `${STATE_FILE_PREFIX}${process.pid}.json`);
}

export function temporalCliPath(): string {
  if (process.env.TEMPORAL_CLI) return process.env.TEMPORAL_CLI;
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'tessera', 'temporal-v1.5.1', 'temporal');
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Guards against a recycled pid: on Linux, only a headless `temporal server start-dev` counts. */
export function isTestTemporalServer(pid: number): boolean {
  if (!isRunning(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('start-dev') && cmdline.includes('--headless');
  } catch {
    return process.platform !== 'linux';
  }
}

export async function freePorts(count: number): Promise<number[]> {
  // Hold all listeners open together so the ports are distinct, then release them for the server.
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      servers.push(server);
    }
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** Kills servers left behind by a jest process that died before its teardown. */
function stopAbandonedServers(): void {
  for (const name of readdirSync(os.tmpdir())) {
    if (!name.startsWith(STATE_FILE_PREFIX) || !name.endsWith('.json')) continue;
    const file = path.join(os.tmpdir(), name);
    try {
      const state = JSON.parse(readFileSync(file, 'utf8')) as TestTemporalServer;
      if (isRunning(state.ownerPid)) continue;
      if (isTestTemporalServer(state.serverPid)) process.kill(state.serverPid, 'SIGKILL');
      rmSync(file, { force: true });
    } catch {
      // Another run's file being written or removed right now: leave it to that run.
    }
  }
}

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resolves once the server answers gRPC and has Tessera's search attributes registered. */
export async function waitForTemporal(address: string, timeoutMs: number, hasExited: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !hasExited()) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: TEST_TEMPORAL_NAMESPACE });
        const missing = SEARCH_ATTRIBUTES.filter((name) => !(name in (customAttributes ?? {})));
        if (missing.length === 0) return;
        lastError = new Error(`search attributes not registered: ${missing.join(', ')}`);
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Temporal at ${address} is not ready: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

// Jest loads globalSetup through its default export.
export default async function globalSetup(): Promise<void> {
  const existing = process.env[TEST_TEMPORAL_ADDRESS_ENV];
  if (existing) {
    // A server given from outside (e.g. a long-running one while iterating): use it, start nothing.
    await waitForTemporal(existing, 5_000);
    return;
  }
  stopAbandonedServers();

  const cli = temporalCliPath();
  if (!existsSync(cli)) {
    throw new Error(`Temporal CLI not found at ${cli}. Run the tests with \`npm test\` (it installs the CLI) or set TEMPORAL_CLI.`);
  }
  const [port, httpPort, metricsPort] = (await freePorts(3)) as [number, number, number];
  const address = `127.0.0.1:${port}`;
  const logFile = path.join(os.tmpdir(), `${STATE_FILE_PREFIX}${process.pid}.log`);
  const log = openSync(logFile, 'w');
  const args = [
    'server', 'start-dev', '--headless',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--http-port', String(httpPort),
    '--metrics-port', String(metricsPort),
    ...SEARCH_ATTRIBUTES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    '--log-level', 'warn',
  ];
  // Not detached: a Ctrl-C on the terminal reaches the server too, even if jest skips its teardown.
  const child = spawn(cli, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  if (child.pid === undefined) throw new Error(`could not start ${cli}`);

  const state: TestTemporalServer = { serverPid: child.pid, ownerPid: process.pid, address, logFile };
  writeFileSync(testTemporalStateFile(), JSON.stringify(state));
  (globalThis as { tesseraTestTemporal?: TestTemporalServer }).tesseraTestTemporal = state;

  try {
    await waitForTemporal(address, STARTUP_TIMEOUT_MS, () => exited);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(testTemporalStateFile(), { force: true });
    throw new Error(`${(error as Error).message}\nlast lines of ${logFile}:\n${logTail(logFile)}`, { cause: error });
  }
  // Test files run in this process (--runInBand) or in workers forked after this point; both see it.
  process.env[TEST_TEMPORAL_ADDRESS_ENV] = address;
}
