// The `checkExportWheel` activity: installs the wheel into a fresh virtual environment with no index and no
// dependencies (so it proves the package installs offline) and runs its console script and `python -m` with --help.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { currentAttempt, lastLine, type BuildDeps } from './build-wheel';
import { runLogged } from './logged-process';

export const EXPORT_CHECK_FAILED = 'ExportCheckFailed';

export interface CheckWheelInput {
  wheelPath: string;
  scriptName: string;
  moduleName: string;
}

export async function checkWheel(deps: Pick<BuildDeps, 'python' | 'buildTimeoutMs'>, input: CheckWheelInput): Promise<{ log: string }> {
  const venv = await mkdtemp(path.join(tmpdir(), 'tessera-check-'));
  const env = { PATH: '/usr/bin:/bin', HOME: venv, LANG: 'C.UTF-8', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };
  let log = `== check attempt ${currentAttempt()} ==\n`;
  try {
    const steps: [string, string[]][] = [
      [deps.python, ['-m', 'venv', venv]],
      [path.join(venv, 'bin', 'pip'), ['install', '--no-index', '--no-deps', input.wheelPath]],
      [path.join(venv, 'bin', input.scriptName), ['--help']],
      [path.join(venv, 'bin', 'python'), ['-m', input.moduleName, '--help']],
    ];
    for (const [command, args] of steps) {
      const result = await runLogged(command, args, { env, timeoutMs: deps.buildTimeoutMs });
      log += result.log;
      if (result.code !== 0) {
        throw ApplicationFailure.create({
          type: EXPORT_CHECK_FAILED,
          message: `the wheel check failed at ${path.basename(command)} ${args.join(' ')}: ${lastLine(result.log)}`,
          details: [{ log }],
        });
      }
    }
    return { log };
  } finally {
    await rm(venv, { recursive: true, force: true });
  }
}
