// The stack's generated secrets: written once, owner-only, read back unchanged by every later start and by
// processes started by hand; never a public default.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config';
import { ensureStackSecrets, readStackSecrets, stackSecretsFile, withStackSecrets } from './stack-secrets';

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-secrets-'));
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('stack secrets', () => {
  it('generates the file once, owner-only (file 0600, directory 0700), and returns the same secrets on every later call', () => {
    const file = stackSecretsFile({ DATA_DIR: dataDir });
    expect(file).toBe(path.join(dataDir, 'secrets', 'stack.json'));
    // A directory left looser by an earlier tool is tightened.
    mkdirSync(path.dirname(file), { mode: 0o755 });
    chmodSync(path.dirname(file), 0o755);

    const first = ensureStackSecrets(file);
    expect(first.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(first.secrets.JWT_SECRET).toMatch(/^[0-9a-f]{64}$/);
    expect(first.secrets.ENCRYPTION_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(first.secrets.ENCRYPTION_KEY).not.toBe(first.secrets.JWT_SECRET);
    const written = readFileSync(file, 'utf8');
    const inode = statSync(file).ino;

    const again = ensureStackSecrets(file);
    expect(again).toEqual({ secrets: first.secrets, created: false });
    expect(readFileSync(file, 'utf8')).toBe(written);
    expect(statSync(file).ino).toBe(inode);
    // No draft is left beside it.
    expect(readdirSync(path.dirname(file))).toEqual(['stack.json']);
  });

  it('gives another DATA_DIR other secrets', () => {
    const other = mkdtempSync(path.join(tmpdir(), 'tessera-secrets-'));
    try {
      const a = ensureStackSecrets(stackSecretsFile({ DATA_DIR: dataDir })).secrets;
      const b = ensureStackSecrets(stackSecretsFile({ DATA_DIR: other })).secrets;
      expect(b.JWT_SECRET).not.toBe(a.JWT_SECRET);
      expect(b.ENCRYPTION_KEY).not.toBe(a.ENCRYPTION_KEY);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses a file others can read, and one that is not what npm start wrote, with what to do', () => {
    const file = stackSecretsFile({ DATA_DIR: dataDir });
    ensureStackSecrets(file);
    chmodSync(file, 0o644);
    expect(() => readStackSecrets(file)).toThrow(ConfigError);
    expect(() => readStackSecrets(file)).toThrow(/readable by others \(mode 644\); run `chmod 600/);
    chmodSync(file, 0o600);
    writeFileSync(file, '{"JWT_SECRET": "short"}');
    expect(() => readStackSecrets(file)).toThrow(/JWT_SECRET is missing or shorter than 32 characters/);
  });

  it('fills a process started by hand from the file, the environment winning, and without a file leaves loadConfig to refuse', () => {
    const env = { DATA_DIR: dataDir, JWT_SECRET: '', ENCRYPTION_KEY: undefined };
    expect(withStackSecrets(env)).toBe(env);
    expect(() => loadConfig(withStackSecrets(env))).toThrow(/JWT_SECRET: not set/);
    expect(() => loadConfig(withStackSecrets(env))).toThrow(/ENCRYPTION_KEY: not set/);

    const { secrets } = ensureStackSecrets(stackSecretsFile(env));
    const config = loadConfig(withStackSecrets(env));
    expect(config.jwtSecret).toBe(secrets.JWT_SECRET);
    expect(config.encryptionKey).toBe(secrets.ENCRYPTION_KEY);
    expect(loadConfig(withStackSecrets({ ...env, JWT_SECRET: 'a-jwt-secret-from-the-environment' })).jwtSecret).toBe('a-jwt-secret-from-the-environment');
  });
});
