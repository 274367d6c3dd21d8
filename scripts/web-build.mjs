// Builds the web app (Vite) into the directory the API serves at /, when that build is missing or older
// than a file it is made from. `npm start` and the browser tests (test/e2e/web-build.ts) both use it.
// Plain ESM without dependencies; also a command: `node scripts/web-build.mjs [--out-dir DIR]`.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where `npm run build` and the vite config put the app; the API serves this unless WEB_DIST_DIR says otherwise. */
export const DEFAULT_WEB_DIST = path.join(repoRoot, 'web', 'dist');

/** Written by the vite config's build-sources plugin: the repository files the last build bundled. */
export const BUILD_SOURCES_FILE = '.build-sources.json';

// Always sources: the app's own tree (a new file there may be imported from now on), the page, the config,
// and the lock (a dependency update changes the bundle). Files the app imports from core/ come from the
// build's own list, so a change to a worker-only core module does not cost a rebuild.
const ALWAYS = ['web/src', 'web/index.html', 'web/vite.config.mts', 'package-lock.json'];

/** Resolves a WEB_DIST_DIR setting (relative to the repository, as `npm start` runs there). */
export function webDistDir(setting = process.env.WEB_DIST_DIR) {
  return setting ? path.resolve(repoRoot, setting) : DEFAULT_WEB_DIST;
}

/** The newest file under `entry` (itself when it is a file): { file, mtimeMs }, or undefined when absent. */
function newestFile(entry, skip = () => false) {
  if (!existsSync(entry)) return undefined;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return skip(entry) ? undefined : { file: entry, mtimeMs: stat.mtimeMs };
  let newest;
  for (const name of readdirSync(entry)) {
    const candidate = newestFile(path.join(entry, name), skip);
    if (candidate && (!newest || candidate.mtimeMs > newest.mtimeMs)) newest = candidate;
  }
  return newest;
}

function bundledSources(outDir) {
  try {
    return JSON.parse(readFileSync(path.join(outDir, BUILD_SOURCES_FILE), 'utf8')).map((file) => path.join(repoRoot, file));
  } catch {
    // A build from before the list existed: every core module may be in it (tests are not).
    return [path.join(repoRoot, 'core')];
  }
}

/** A directory as the log shows it: relative inside the repository, absolute outside. */
function shown(dir) {
  const relative = path.relative(repoRoot, dir);
  return relative && !relative.startsWith('..') ? relative : dir;
}

/** Why `outDir` needs a (re)build, as a phrase for the log ("web/dist is missing"), or null when it is fresh. */
export function webBuildStaleness(outDir = DEFAULT_WEB_DIST) {
  const index = path.join(outDir, 'index.html');
  if (!existsSync(index)) return `${shown(outDir)} is missing`;
  const builtAt = statSync(index).mtimeMs;
  const isTest = (file) => file.endsWith('.test.ts');
  for (const source of [...ALWAYS.map((p) => path.join(repoRoot, p)), ...bundledSources(outDir)]) {
    const newest = newestFile(source, isTest);
    if (newest && newest.mtimeMs > builtAt) return `${shown(outDir)} is older than ${path.relative(repoRoot, newest.file)}`;
  }
  return null;
}

/**
 * Runs `vite build` into `outDir`; resolves when it succeeded, rejects with its exit status otherwise.
 * `onLine` receives Vite's output lines (warnings and errors only); `signal` stops the build.
 */
export function buildWeb(outDir = DEFAULT_WEB_DIST, { onLine = (line) => process.stderr.write(`${line}\n`), signal } = {}) {
  const startedAt = new Date();
  const vite = path.join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  const args = [vite, 'build', '--config', 'web/vite.config.mts', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
    let pending = '';
    const forward = (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line);
    };
    child.stdout.setEncoding('utf8').on('data', forward);
    child.stderr.setEncoding('utf8').on('data', forward);
    child.once('error', (error) => reject(new Error(`could not run vite: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (pending.trim()) onLine(pending);
      if (code !== 0) return reject(new Error(`vite build failed (${code === null ? `signal ${signal}` : `exit code ${code}`})`));
      // Dated from the start of the build: a source saved while Vite was bundling is newer, so the next check rebuilds.
      utimesSync(path.join(outDir, 'index.html'), startedAt, startedAt);
      resolve();
    });
  });
}

/**
 * Builds `outDir` when it is missing or stale, saying why through `say` before and how long it took after
 * (`onLine` and `signal` as for buildWeb). Resolves to { built, reason, ms }.
 */
export async function ensureWebBuilt(outDir = DEFAULT_WEB_DIST, { say = (line) => console.log(`[web] ${line}`), onLine, signal } = {}) {
  const reason = webBuildStaleness(outDir);
  if (!reason) return { built: false, reason: null, ms: 0 };
  say(`building the web app (${reason})`);
  const started = Date.now();
  await buildWeb(outDir, { ...(onLine ? { onLine } : {}), signal });
  const ms = Date.now() - started;
  say(`built the web app into ${shown(outDir)} in ${(ms / 1000).toFixed(1)}s`);
  return { built: true, reason, ms };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } });
  try {
    await ensureWebBuilt(values['out-dir'] ? path.resolve(values['out-dir']) : webDistDir());
  } catch (error) {
    console.error(`[web] ${error.message}`);
    process.exit(1);
  }
}
