// A real Docker engine for the deployment tests: starts `dockerd` when none answers (this machine has none
// running), and provides the base image locally, since no registry is reachable: a Debian bookworm rootfs
// with python3 and python3-venv made by debootstrap, imported with `docker import`, cached in ~/.cache/tessera.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const run = promisify(execFile);

export const TEST_BASE_IMAGE = 'tessera-python-base:bookworm';
const CACHE_DIR = path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'tessera');

async function engineAnswers(docker: Docker): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

/** A client of a running engine, starting `dockerd` in the background (as root) if none answers. */
export async function ensureDockerEngine(): Promise<Docker> {
  const docker = new Docker();
  if (await engineAnswers(docker)) return docker;
  const log = openSync('/tmp/tessera-dockerd.log', 'a');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await engineAnswers(docker)) return docker;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('dockerd did not answer within 60 s; see /tmp/tessera-dockerd.log');
}

/** The local python base image, built once per machine (about a minute) and reused afterwards. */
export async function ensureBaseImage(docker: Docker): Promise<string> {
  try {
    await docker.getImage(TEST_BASE_IMAGE).inspect();
    return TEST_BASE_IMAGE;
  } catch {
    /* not there yet */
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const rootfs = path.join(CACHE_DIR, 'rootfs-bookworm');
  if (!existsSync(path.join(rootfs, 'usr', 'bin', 'python3'))) {
    await run('debootstrap', ['--variant=minbase', '--include=python3,python3-venv', 'bookworm', rootfs], { maxBuffer: 64 * 1024 * 1024 });
  }
  await run('sh', ['-c', `tar -C '${rootfs}' -c . | docker import - ${TEST_BASE_IMAGE}`], { maxBuffer: 64 * 1024 * 1024 });
  return TEST_BASE_IMAGE;
}
