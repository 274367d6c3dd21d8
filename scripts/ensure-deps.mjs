// Installs node_modules from package-lock.json (`npm install`) when they are missing or older than the lock.
// Not `npm ci`: its strict check wants a lock entry for every optional platform binary (@swc/core-darwin-*,
// @unrs/resolver-binding-*), and registry mirrors that serve only some platforms leave those out of the lock.
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

/** Runs `npm install` (versions pinned by the lock) in the repository when needed; throws when npm fails. */
export function ensureDeps(root = repoRoot) {
  if (dependenciesAreInstalled(root)) return;
  console.log('[deps] node_modules is missing or older than package-lock.json; running npm install');
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) throw new Error(`could not run npm install: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`npm install failed with exit code ${result.status ?? result.signal}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    ensureDeps();
  } catch (error) {
    console.error(`[deps] ${error.message}`);
    process.exit(1);
  }
}
