// Installs node_modules with `npm ci` when they are missing or older than package-lock.json.
// Plain ESM without dependencies, because it runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function modifiedAt(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** True when node_modules was installed from the current package-lock.json. */
export function dependenciesAreInstalled(root = repoRoot) {
  // npm writes node_modules/.package-lock.json (the "hidden lockfile") at the end of every install.
  const installed = modifiedAt(path.join(root, 'node_modules', '.package-lock.json'));
  const wanted = modifiedAt(path.join(root, 'package-lock.json'));
  if (installed === undefined) return false;
  return wanted === undefined || wanted <= installed;
}

/** Runs `npm ci` in the repository when needed; throws when npm fails. */
export function ensureDeps(root = repoRoot) {
  if (dependenciesAreInstalled(root)) return;
  console.log('[deps] node_modules is missing or older than package-lock.json; running npm ci');
  const result = spawnSync('npm', ['ci'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) throw new Error(`could not run npm ci: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`npm ci failed with exit code ${result.status ?? result.signal}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    ensureDeps();
  } catch (error) {
    console.error(`[deps] ${error.message}`);
    process.exit(1);
  }
}
