// Jest globalTeardown: stops the Temporal dev server that test/global-setup.ts started.
import { readFileSync, rmSync } from 'node:fs';
import { isRunning, isTestTemporalServer, testTemporalStateFile, type TestTemporalServer } from './global-setup';

const GRACE_MS = 5_000;

async function exited(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !isRunning(pid);
}

function startedServer(): TestTemporalServer | undefined {
  const fromSetup = (globalThis as { tesseraTestTemporal?: TestTemporalServer }).tesseraTestTemporal;
  if (fromSetup) return fromSetup;
  try {
    return JSON.parse(readFileSync(testTemporalStateFile(), 'utf8')) as TestTemporalServer;
  } catch {
    return undefined; // setup reused a server given from outside, or started none
  }
}

// Jest loads globalTeardown through its default export.
export default async function globalTeardown(): Promise<void> {
  const server = startedServer();
  if (!server) return;
  if (isTestTemporalServer(server.serverPid)) {
    process.kill(server.serverPid, 'SIGTERM');
    if (!(await exited(server.serverPid, GRACE_MS))) process.kill(server.serverPid, 'SIGKILL');
  }
  rmSync(testTemporalStateFile(), { force: true });
  rmSync(server.logFile, { force: true });
  delete (globalThis as { tesseraTestTemporal?: TestTemporalServer }).tesseraTestTemporal;
}
