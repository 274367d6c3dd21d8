// Finds the Temporal CLI (which embeds the dev server), building it with `go install` into a per-user
// cache when it is missing. Writes nothing into the checkout. Plain ESM: runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
// Older CLI, tried when the pinned one does not build with the local Go toolchain.
export const TEMPORAL_CLI_FALLBACK_VERSION = 'v1.4.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
const executableName = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

export class TemporalCliUnavailable extends Error {}

/** `<XDG_CACHE_HOME or ~/.cache>/tessera/temporal-<version>`: per user, shared by every checkout. */
export function temporalCliCacheDir(version = TEMPORAL_CLI_VERSION) {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'tessera', `temporal-${version}`);
}

export function cachedTemporalCliPath(version = TEMPORAL_CLI_VERSION) {
  return path.join(temporalCliCacheDir(version), executableName);
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Accepts CLI 1.x. A CLI built with `go install` reports "0.0.0-DEV (Server 1.29.1, ...)", so a dev build
 * is accepted when its embedded server is 1.25 or newer (the CLI 1.x era).
 */
export function isSupportedTemporalVersion(versionOutput) {
  if (/temporal version 1\.\d+/.test(versionOutput)) return true;
  const server = /0\.0\.0-DEV \(Server 1\.(\d+)/.exec(versionOutput);
  return server !== null && Number(server[1]) >= 25;
}

function temporalOnPath() {
  const candidate = findOnPath(executableName);
  if (!candidate) return undefined;
  const result = spawnSync(candidate, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 && isSupportedTemporalVersion(result.stdout) ? candidate : undefined;
}

/** The CLI to use without building anything, or undefined. */
export function findTemporalCli() {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new TemporalCliUnavailable(`TEMPORAL_CLI=${fromEnv} is not an executable file.`);
    return fromEnv;
  }
  const onPath = temporalOnPath();
  if (onPath) return onPath;
  for (const version of [TEMPORAL_CLI_VERSION, TEMPORAL_CLI_FALLBACK_VERSION]) {
    if (isExecutable(cachedTemporalCliPath(version))) return cachedTemporalCliPath(version);
  }
  return undefined;
}

function findGo() {
  return findOnPath(process.platform === 'win32' ? 'go.exe' : 'go') ?? ['/usr/local/go/bin/go'].find(isExecutable);
}

function goInstall(go, version) {
  const dir = temporalCliCacheDir(version);
  mkdirSync(dir, { recursive: true });
  console.log(`[temporal-cli] building the Temporal CLI ${version} into ${dir}`);
  console.log(`[temporal-cli]   GOBIN=${dir} go install ${TEMPORAL_CLI_MODULE}@${version}`);
  console.log('[temporal-cli] this happens once per machine and takes a few minutes');
  // cwd outside the checkout so Go never picks up a go.mod of ours and nothing lands in the repo.
  const result = spawnSync(go, ['install', `${TEMPORAL_CLI_MODULE}@${version}`], {
    cwd: dir,
    stdio: 'inherit',
    env: { ...process.env, GOBIN: dir },
  });
  return result.status === 0 && isExecutable(cachedTemporalCliPath(version));
}

const howToGetTheCli = `The Temporal CLI (${TEMPORAL_CLI_VERSION}) was not found and Go is not installed to build it. Either:
  - install Go (https://go.dev/doc/install) and rerun; the CLI is then built into ${temporalCliCacheDir()}
  - or set TEMPORAL_CLI=/path/to/temporal (any CLI 1.x)
  - or download the CLI from https://github.com/temporalio/cli/releases (or https://docs.temporal.io/cli#install)
    and put \`temporal\` on your PATH`;

/** Path of a usable Temporal CLI, building it into the cache when needed. */
export async function ensureTemporalCli() {
  const found = findTemporalCli();
  if (found) return found;
  const go = findGo();
  if (!go) throw new TemporalCliUnavailable(howToGetTheCli);
  for (const version of [TEMPORAL_CLI_VERSION, TEMPORAL_CLI_FALLBACK_VERSION]) {
    if (goInstall(go, version)) return cachedTemporalCliPath(version);
    console.error(`[temporal-cli] go install of the Temporal CLI ${version} failed`);
  }
  throw new TemporalCliUnavailable(
    `Could not build the Temporal CLI with ${go} (tried ${TEMPORAL_CLI_VERSION} and ${TEMPORAL_CLI_FALLBACK_VERSION}).\n` +
      'Set TEMPORAL_CLI=/path/to/temporal, or download it from https://github.com/temporalio/cli/releases.',
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  ensureTemporalCli().then(
    (cli) => console.log(cli),
    (error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
