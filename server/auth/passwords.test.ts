import { DEFAULT_SCRYPT_PARAMS, hashPassword, verifyDecoyPassword, verifyPassword } from './passwords';

describe('password hashing', () => {
  it('stores scrypt parameters, salt and key, never the password itself', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).not.toContain('correct horse');
    const [scheme, N, r, p, salt, key] = hash.split('$');
    expect(scheme).toBe('scrypt');
    expect([Number(N), Number(r), Number(p)]).toEqual([DEFAULT_SCRYPT_PARAMS.N, DEFAULT_SCRYPT_PARAMS.r, DEFAULT_SCRYPT_PARAMS.p]);
    expect(Buffer.from(salt ?? '', 'base64url')).toHaveLength(16);
    expect(Buffer.from(key ?? '', 'base64url')).toHaveLength(32);
  });

  it('accepts the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('s3cret-passphrase');
    await expect(verifyPassword('s3cret-passphrase', hash)).resolves.toBe(true);
    await expect(verifyPassword('s3cret-passphrasE', hash)).resolves.toBe(false);
    await expect(verifyPassword('', hash)).resolves.toBe(false);
  });

  it('salts every hash, so equal passwords hash differently', async () => {
    const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    expect(a).not.toBe(b);
    await expect(verifyPassword('same password', b)).resolves.toBe(true);
  });

  it('verifies with the parameters recorded in the hash, so old hashes survive a cost increase', async () => {
    const cheap = await hashPassword('pw-with-low-cost', { N: 2 ** 10, r: 8, p: 1 });
    expect(cheap.startsWith('scrypt$1024$8$1$')).toBe(true);
    await expect(verifyPassword('pw-with-low-cost', cheap)).resolves.toBe(true);
  });

  it('matches a password whatever Unicode normal form it was typed in', async () => {
    const hash = await hashPassword('caf\u00e9-p\u00e4ss');
    await expect(verifyPassword('cafe\u0301-pa\u0308ss', hash)).resolves.toBe(true);
  });

  it('answers false for hashes it cannot read instead of throwing', async () => {
    for (const stored of ['', 'plaintext', 'bcrypt$10$abc', 'scrypt$1000$8$1$c2FsdA$a2V5', 'scrypt$1073741824$8$1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5']) {
      await expect(verifyPassword('anything', stored)).resolves.toBe(false);
    }
  });

  it('the decoy check always fails', async () => {
    await expect(verifyDecoyPassword('whatever')).resolves.toBe(false);
  });
});
