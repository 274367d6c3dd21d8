// The suite runs TypeScript through ts-jest without type diagnostics (for speed), so type errors and lint
// problems are caught here: the compiler over the server side, vue-tsc over the web app, ESLint over all.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

jest.setTimeout(300_000);

async function check(command: string, args: string[]): Promise<string> {
  try {
    await run(bin(command), args, { cwd: ROOT, maxBuffer: 20 * 1024 * 1024 });
    return '';
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
  }
}

it('type-checks the server, worker, workflows and tests (tsc --noEmit)', async () => {
  expect(await check('tsc', ['--noEmit', '-p', 'tsconfig.json'])).toBe('');
});

it('type-checks the web app, .vue files included (vue-tsc)', async () => {
  expect(await check('vue-tsc', ['--noEmit', '-p', 'web/tsconfig.json'])).toBe('');
});

it('has no lint problems (eslint, warnings included)', async () => {
  expect(await check('eslint', ['.', '--max-warnings', '0'])).toBe('');
});
