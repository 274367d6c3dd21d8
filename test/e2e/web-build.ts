// The browser tests run against the BUILT web app, as production serves it: scripts/web-build.mjs (the same
// check and build `npm start` runs) builds web/dist when it is missing or older than a source it is made from.
// A child process, because Jest cannot import an ES module without --experimental-vm-modules.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..');
export const WEB_DIST = path.join(repoRoot, 'web', 'dist');

/** Builds `outDir` when needed and returns it. */
export function ensureWebBuilt(outDir = WEB_DIST): string {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'web-build.mjs'), '--out-dir', outDir], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return outDir;
}
