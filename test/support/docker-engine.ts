// A real Docker engine for the deployment tests: starts `dockerd` when none answers (this machine has none
// running), and provides the base image locally, since no registry is reachable: a Debian bookworm rootfs
// with python3 and python3-venv made by debootstrap, imported with `docker import`, cached in ~/.cache/tessera.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { isRunning } from '../global-setup';

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

/** The local python base image, built once per machine (a few minutes) and reused afterwards. */
export async function ensureBaseImage(docker: Docker): Promise<string> {
  try {
    await docker.getImage(TEST_BASE_IMAGE).inspect();
    return TEST_BASE_IMAGE;
  } catch {
    /* not there yet */
  }
  const rootfs = await ensureRootfs();
  await run('sh', ['-c', `tar -C '${rootfs}' -c . | docker import - ${TEST_BASE_IMAGE}`], { maxBuffer: 64 * 1024 * 1024 });
  return TEST_BASE_IMAGE;
}

const ROOTFS_WAIT_MS = 15 * 60_000;

/**
 * The debootstrap rootfs, complete or not at all: it is made in a directory of its own and renamed into place, one
 * process at a time (a lock directory naming its pid), so a test file that gave up waiting, or a second test
 * process, never leaves or finds a half-made rootfs that debootstrap then refuses ("File exists").
 */
async function ensureRootfs(): Promise<string> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const rootfs = path.join(CACHE_DIR, 'rootfs-bookworm');
  const complete = () => existsSync(path.join(rootfs, 'usr', 'bin', 'python3'));
  const lock = `${rootfs}.lock`;
  const deadline = Date.now() + ROOTFS_WAIT_MS;
  while (!complete()) {
    if (takeLock(lock)) {
      try {
        if (complete()) break;
        const partial = `${rootfs}.partial-${process.pid}`;
        rmSync(partial, { recursive: true, force: true });
        await run('debootstrap', ['--variant=minbase', '--include=python3,python3-venv', 'bookworm', partial], { maxBuffer: 64 * 1024 * 1024 });
        // A rootfs left by an older, unlocked build without python3 is not one.
        rmSync(rootfs, { recursive: true, force: true });
        renameSync(partial, rootfs);
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
      break;
    }
    if (Date.now() > deadline) throw new Error(`the base image's rootfs is still being made by the process in ${lock} after ${ROOTFS_WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  return rootfs;
}

/** Takes the lock directory, or takes it over from a process that died holding it. */
function takeLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    writeFileSync(path.join(lock, 'pid'), String(process.pid));
    return true;
  } catch {
    const holder = lockHolder(lock);
    if (holder === null) return false; // just made, its pid not written yet
    if (Number.isInteger(holder) && holder > 0 && isRunning(holder)) return false;
    rmSync(lock, { recursive: true, force: true });
    return false; // taken over on the next look
  }
}

/** The pid the lock directory names, or null while it names none yet. */
function lockHolder(lock: string): number | null {
  try {
    return Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
  } catch {
    return null;
  }
}
