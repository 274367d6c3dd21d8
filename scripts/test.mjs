// `npm test`: installs what the suite needs (node_modules, the Temporal CLI), runs jest one file at a time and
// ends with the line "N passed, N failed". Arguments are passed through to jest.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDeps, repoRoot } from './ensure-deps.mjs';
import { ensureTemporalCli } from './temporal-cli.mjs';
import { ensureSystemPackages } from './system-packages.mjs';

const resultFile = path.join(repoRoot, '.jest-result.json');
// The web app's component and store tests (web/src/**/*.spec.ts) run under Vitest; their counts join jest's.
const vitestResultFile = path.join(repoRoot, '.vitest-result.json');
// test/global-setup.ts records the dev server it started here, so a jest that dies before its
// teardown does not leave the server running.
// Above this, jest starts a fresh worker for the next test file.
const WORKER_MEMORY_LIMIT = '1536MB';
const temporalStateFile = path.join(os.tmpdir(), `tessera-test-temporal-${process.pid}.json`);

function runJest(args, env) {
  return runTool('jest', args, env);
}

function runTool(tool, args, env) {
  return new Promise((resolve) => {
    const child = spawn('npx', [tool, ...args], { cwd: repoRoot, env, stdio: 'inherit', shell: process.platform === 'win32' });
    // Ctrl-C reaches jest directly (same process group); stay alive to report and clean up after it.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    child.on('error', (error) => {
      console.error(`[test] could not run ${tool}: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? 128 + (os.constants.signals[signal] ?? 1));
    });
  });
}

function stopLeftoverTemporal() {
  if (!existsSync(temporalStateFile)) return;
  let state;
  try {
    state = JSON.parse(readFileSync(temporalStateFile, 'utf8'));
    const cmdline = readFileSync(`/proc/${state.serverPid}/cmdline`, 'utf8');
    if (cmdline.includes('start-dev')) {
      console.error(`[test] jest left its Temporal dev server (pid ${state.serverPid}) running; stopping it`);
      process.kill(state.serverPid, 'SIGKILL');
    }
  } catch {
    // Already gone, or no /proc to confirm the pid is ours: nothing safe to do.
  }
  if (state?.logFile) rmSync(state.logFile, { force: true });
  rmSync(temporalStateFile, { force: true });
}

/** Vitest's JSON report; a suite that failed to load counts as one failure. */
function readVitestCounts() {
  try {
    const result = JSON.parse(readFileSync(vitestResultFile, 'utf8'));
    const failed = result.numFailedTests ?? 0;
    return { passed: result.numPassedTests ?? 0, failed: failed + (result.success === false && failed === 0 ? 1 : 0) };
  } catch {
    return { passed: 0, failed: 1 };
  }
}

function readCounts() {
  try {
    const result = JSON.parse(readFileSync(resultFile, 'utf8'));
    return {
      passed: result.numPassedTests ?? 0,
      failed: (result.numFailedTests ?? 0) + (result.numRuntimeErrorTestSuites ?? 0),
      total: result.numTotalTests ?? 0,
    };
  } catch {
    return undefined;
  }
}

async function main() {
  ensureDeps();
  ensureSystemPackages();
  const cli = await ensureTemporalCli();

  // One test file at a time (the suites share one Temporal dev server and the machine's two cores), but in a
  // worker process that jest replaces once it holds more than WORKER_MEMORY_LIMIT after a file: in band, the
  // heap of a 100-suite run with coverage grew until V8 aborted the whole run half-way.
  // --passWithNoTests so jest still writes its result file; an empty run fails below, with its own message.
  const args = ['--maxWorkers=1', `--workerIdleMemoryLimit=${WORKER_MEMORY_LIMIT}`, '--ci', '--json', `--outputFile=${resultFile}`, '--passWithNoTests'];
  if (process.env.CI === 'true' || process.env.COVERAGE === '1') args.push('--coverage');
  args.push(...process.argv.slice(2));

  rmSync(resultFile, { force: true });
  const env = { ...process.env, TEMPORAL_CLI: cli, TESSERA_TEST_TEMPORAL_STATE_FILE: temporalStateFile };
  const jestExit = await runJest(args, env);
  stopLeftoverTemporal();

  rmSync(vitestResultFile, { force: true });
  const vitestExit = await runTool('vitest', ['run', '--config', 'web/vite.config.mts', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestResultFile}`], env);
  const web = readVitestCounts();

  const counts = readCounts();
  if (counts) {
    counts.passed += web.passed;
    counts.failed += web.failed;
    counts.total += web.passed + web.failed;
  }
  if (!counts) {
    // jest ended without writing results (bad config, crash): count the run itself as one failure.
    console.error(`[test] jest exited with ${jestExit} and wrote no ${path.basename(resultFile)}`);
    console.log(`${web.passed} passed, ${web.failed + 1} failed`);
    return 1;
  }
  if (counts.total === 0 && counts.failed === 0) console.error('[test] no test ran');
  else if (jestExit !== 0 && counts.failed === 0) console.error(`[test] jest exited with code ${jestExit}`);
  if (vitestExit !== 0 && web.failed === 0) console.error(`[test] vitest exited with code ${vitestExit}`);
  console.log(`${counts.passed} passed, ${counts.failed} failed`);
  return jestExit === 0 && vitestExit === 0 && counts.failed === 0 && counts.total > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[test] ${error.message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
