// What a user of code export does in tests: export a workflow, wait for the wheel, download it, install it
// into a fresh venv of Debian's Python and run its console script offline.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FINISHED_EXPORT_STATUSES } from '../../core/export-protocol';
import { SYSTEM_PYTHON } from './python-evaluators';
import { pollResource, type TestSession } from './session';
import type { TestStack } from './stack';

const run = promisify(execFile);
const TERMINAL: readonly string[] = FINISHED_EXPORT_STATUSES;

export async function startExport(stack: TestStack, session: TestSession, workflowId: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await stack.request('POST', `/api/v1/workflows/${workflowId}/exports`, { token: session.token, body });
  if (res.status !== 202) throw new Error(`export failed to start: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

export async function waitForExport(stack: TestStack, session: TestSession, exportId: string, done: (e: any) => boolean = (e) => TERMINAL.includes(e.status), timeoutMs = 120_000): Promise<any> {
  return pollResource(stack, session, `/api/v1/exports/${exportId}`, done, timeoutMs, 200);
}

export interface DownloadedWheel {
  file: string;
  bytes: Buffer;
  headers: Headers;
}

export async function downloadWheel(stack: TestStack, session: TestSession, exportId: string, dir: string): Promise<DownloadedWheel> {
  const res = await fetch(`${stack.baseUrl}/api/v1/exports/${exportId}/download`, { headers: { authorization: `Bearer ${session.token}` } });
  if (res.status !== 200) throw new Error(`download failed: ${res.status} ${await res.text()}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
  if (!name) throw new Error('download without a filename');
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return { file, bytes, headers: res.headers };
}

/** A fresh venv with the wheel installed offline; returns the venv's bin dir. */
export async function installWheel(wheel: string): Promise<string> {
  const venv = mkdtempSync(path.join(tmpdir(), 'tessera-venv-'));
  await run(SYSTEM_PYTHON, ['-m', 'venv', venv]);
  await run(path.join(venv, 'bin', 'pip'), ['install', '--no-index', '--no-deps', '--disable-pip-version-check', wheel]);
  return path.join(venv, 'bin');
}

export async function runExported(bin: string, script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(path.join(bin, script), args, { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The command line of a run: each input as --input (non-strings as JSON, which the package coerces back). */
export function inputArgs(inputs: Record<string, unknown>): string[] {
  return Object.entries(inputs).flatMap(([k, v]) => ['--input', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`]);
}
