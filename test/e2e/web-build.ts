// The browser tests run against the BUILT web app, as production serves it: build web/dist when it is
// missing or older than any source it is made from (a Vite build takes a couple of seconds).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..');
export const WEB_DIST = path.join(repoRoot, 'web', 'dist');

function newestMtime(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, name)));
  return newest;
}

export function ensureWebBuilt(): string {
  const built = path.join(WEB_DIST, 'index.html');
  const sources = ['web/src', 'web/index.html', 'web/vite.config.mts', 'core', 'package-lock.json'].map((p) => path.join(repoRoot, p));
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  if (builtAt === 0 || sources.some((s) => newestMtime(s) > builtAt)) {
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.mts', '--logLevel', 'warn'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return WEB_DIST;
}
