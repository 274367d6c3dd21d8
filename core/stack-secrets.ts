// The secrets of a one-machine stack (docs/security.md "Secrets of a stack"): when JWT_SECRET or ENCRYPTION_KEY
// is not set, `npm start` generates random ones once into DATA_DIR/secrets/stack.json (directory 0700, file
// 0600) and every process it starts gets them; a process started by hand (`npm run api`, the rotation
// command) reads the same file. Nothing here ever invents a secret a process would then use alone.
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config';

/** The generated settings; a variable set in the environment always wins over its entry here. */
export interface StackSecrets {
  JWT_SECRET: string;
  ENCRYPTION_KEY: string;
}

const NAMES = ['JWT_SECRET', 'ENCRYPTION_KEY'] as const;

/** DATA_DIR/secrets/stack.json, DATA_DIR taken from the working directory as loadConfig does. */
export function stackSecretsFile(env: Record<string, string | undefined>): string {
  return path.join(path.resolve(env.DATA_DIR || '.data'), 'secrets', 'stack.json');
}

/** The secrets in `file`; undefined when there is no such file. Loose permissions are refused, as ssh does. */
export function readStackSecrets(file: string): StackSecrets | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(`Invalid configuration:\n  ${file} is readable by others (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new ConfigError(`Invalid configuration:\n  ${file} is not the JSON npm start writes; delete it to generate new secrets (vault entries sealed with the old key are then lost)`);
  }
  const secrets = parsed as Partial<Record<string, unknown>>;
  for (const name of NAMES) {
    if (typeof secrets[name] !== 'string' || (secrets[name] as string).length < 32) {
      throw new ConfigError(`Invalid configuration:\n  ${file}: ${name} is missing or shorter than 32 characters`);
    }
  }
  return { JWT_SECRET: secrets.JWT_SECRET as string, ENCRYPTION_KEY: secrets.ENCRYPTION_KEY as string };
}

/**
 * The stack's secrets, generated on the first call for a DATA_DIR and read back on every later one. The
 * file appears complete or not at all (written aside, then hard-linked into place, which fails if another
 * start won the race), so two starts at once agree on one set.
 */
export function ensureStackSecrets(file: string): { secrets: StackSecrets; created: boolean } {
  const existing = readStackSecrets(file);
  if (existing) return { secrets: existing, created: false };
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask and ignored for a directory that exists.
  chmodSync(dir, 0o700);
  const secrets: StackSecrets = { JWT_SECRET: randomBytes(32).toString('hex'), ENCRYPTION_KEY: randomBytes(32).toString('hex') };
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { secrets: readStackSecrets(file)!, created: false };
  } finally {
    unlinkSync(draft);
  }
  return { secrets, created: true };
}

/** `env` with JWT_SECRET and ENCRYPTION_KEY filled in from the stack's file where unset (an empty value is unset). */
export function withStackSecrets(env: Record<string, string | undefined>): Record<string, string | undefined> {
  if (NAMES.every((name) => env[name])) return env;
  const secrets = readStackSecrets(stackSecretsFile(env));
  if (!secrets) return env;
  return { ...env, JWT_SECRET: env.JWT_SECRET || secrets.JWT_SECRET, ENCRYPTION_KEY: env.ENCRYPTION_KEY || secrets.ENCRYPTION_KEY };
}
