// The Debian packages Tessera needs on a machine (browser tests, wheel builds, Docker deploys), installed
// with apt-get when missing. One list, so `npm test` and `npm start` install the same things.
import { execFileSync, spawnSync } from 'node:child_process';

/** Package → why Tessera needs it. Parts of the project add their own lines here. */
export const SYSTEM_PACKAGES = {
  chromium: 'the browser the Playwright end-to-end tests (test/e2e) and bench/canvas-pan.ts drive; never downloaded by Playwright',
  'python3-build': 'code export builds each wheel with `/usr/bin/python3 -m build --wheel --no-isolation` (PEP 517, offline)',
  'python3-wheel': 'the bdist_wheel command the setuptools backend needs for that build',
  'python3-setuptools': 'the build backend of exported packages (pyproject.toml: setuptools.build_meta)',
  'python3-venv': 'the export check installs each wheel into a fresh venv and runs its console script',
  'docker.io': 'deployments of exported packages (dockerode talks to this engine; test/deploy.test.ts starts dockerd)',
  debootstrap: 'test/deploy.test.ts makes its python base image from a Debian rootfs, as no registry is reachable offline',
  'postgresql-client': 'pg_dump and pg_restore of `npm run tenant:backup` / `tenant:restore` (docs/operations.md "Backup and restore of a tenant", test/tenant-backup.test.ts)',
};

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Installs the missing packages of `names` (default: all of SYSTEM_PACKAGES); returns the ones installed. */
export function ensureSystemPackages(names = Object.keys(SYSTEM_PACKAGES)) {
  const missing = names.filter((p) => !installed(p));
  if (!missing.length) return [];
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}. Install them with: sudo apt-get install -y ${missing.join(' ')}`);
  }
  console.error(`[setup] installing Debian packages: ${missing.join(' ')}`);
  execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return missing;
}
