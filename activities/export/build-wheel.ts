// The `buildExportWheel` activity: a PEP 517 build of the rendered project with Debian's build tools
// (`python3 -m build --wheel --no-isolation`: no network, the backend comes from python3-setuptools).
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { runLogged } from './logged-process';
import { exportWorkDir, renderProject, type RenderProjectInput } from './render-project';

export const EXPORT_BUILD_FAILED = 'ExportBuildFailed';

export interface BuildWheelResult {
  wheelPath: string;
  wheelFile: string;
  log: string;
}

export interface BuildDeps {
  dataDir: string;
  /** The Python with python3-build, python3-wheel and python3-setuptools: Debian's, not a pyenv on PATH. */
  python: string;
  buildTimeoutMs: number;
}

export async function buildWheel(deps: BuildDeps, input: RenderProjectInput): Promise<BuildWheelResult> {
  const attempt = currentAttempt();
  // Each attempt builds a fresh rendering of its own (rendering is deterministic and takes milliseconds): another
  // worker may not have the render step's copy, and the build of a killed worker may still be writing to its own.
  const projectDir = path.join(exportWorkDir(deps.dataDir, input.tenantId, input.exportId), `build-${attempt}`);
  await rm(projectDir, { recursive: true, force: true });
  await renderProject(input, projectDir);
  const outDir = path.join(projectDir, 'dist');
  const env = { PATH: '/usr/bin:/bin', HOME: projectDir, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', SOURCE_DATE_EPOCH: '315532800' };
  const result = await runLogged(deps.python, ['-m', 'build', '--wheel', '--no-isolation', '--outdir', outDir, projectDir], {
    cwd: projectDir,
    env,
    timeoutMs: deps.buildTimeoutMs,
  });
  const log = `== build attempt ${attempt} ==\n${result.log}`;
  const wheels = existsSync(outDir) ? (await readdir(outDir)).filter((f) => f.endsWith('.whl')) : [];
  if (result.code !== 0 || wheels.length !== 1) {
    throw ApplicationFailure.create({
      type: EXPORT_BUILD_FAILED,
      message: `the wheel build failed (exit ${String(result.code)}): ${lastLine(result.log)}`,
      details: [{ log }],
    });
  }
  const wheelFile = wheels[0]!;
  return { wheelPath: path.join(outDir, wheelFile), wheelFile, log };
}

export function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

export function lastLine(log: string): string {
  const lines = log.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 500);
}
