// The container image's entry point: `api`, `worker` or `migrate` picks which built process to run.
// It stays the parent so that `docker stop` (SIGTERM) reaches the process and its exit code is the container's.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const appRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const CONTAINER_COMMANDS = {
  api: 'dist/server/main.js',
  worker: 'dist/worker/main.js',
  migrate: 'dist/scripts/migrate.js',
};

const [command = 'api', ...rest] = process.argv.slice(2);
const entry = CONTAINER_COMMANDS[command];
if (!entry) {
  console.error(`usage: container-entrypoint.mjs ${Object.keys(CONTAINER_COMMANDS).join('|')} (got "${command}")`);
  process.exit(64);
}

const child = spawn(process.execPath, [path.join(appRoot, entry), ...rest], { cwd: appRoot, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  console.error(`could not start ${entry}: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 1)));
