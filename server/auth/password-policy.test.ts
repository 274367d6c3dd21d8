import { passwordPolicyViolation } from './password-policy';

describe('the password policy (NIST SP 800-63B)', () => {
  it('refuses common, blank, repeated and short passwords, naming the rule', () => {
    expect(passwordPolicyViolation('password')).toMatch(/most common passwords/);
    expect(passwordPolicyViolation('12345678')).toMatch(/most common passwords/);
    expect(passwordPolicyViolation('QWERTYUIOP')).toMatch(/most common passwords/);
    expect(passwordPolicyViolation('        ')).toMatch(/only blanks/);
    expect(passwordPolicyViolation('\t\n \u00a0\t\n \u00a0')).toMatch(/only blanks/);
    expect(passwordPolicyViolation('zzzzzzzzzz')).toMatch(/repeated/);
    expect(passwordPolicyViolation('12121212')).toMatch(/repeated/);
    expect(passwordPolicyViolation('seven77')).toMatch(/at least 8 characters/);
    expect(passwordPolicyViolation('x'.repeat(201))).toMatch(/longer than 200/);
  });

  it('counts characters, not UTF-16 units, and asks for no composition', () => {
    // Seven emoji are 14 UTF-16 units but seven characters: too short.
    expect(passwordPolicyViolation('🦜🦊🐙🦉🐝🦋🐢')).toMatch(/at least 8 characters/);
    expect(passwordPolicyViolation('alllowercaseletters')).toBeNull();
    expect(passwordPolicyViolation('a'.repeat(10) + 'b'.repeat(54))).toBeNull();
    expect(passwordPolicyViolation('x'.repeat(199) + 'y')).toBeNull();
  });

  it("accepts every password the test suites and the web app's tests use", () => {
    for (const used of ['correct horse battery', 'shared password', 'long enough password', 'member password 1', 'member password 123', 'two devices', 'open sesame 1', 'many devices', 'long enough', 'wrong password', 'plain-text-never-stored', 'not the password', 'long password 1', 'benchmark password', 'bench password 123', 's3cret-passphrase', 'same password', 'pw-with-low-cost']) {
      expect([used, passwordPolicyViolation(used)]).toEqual([used, null]);
    }
  });
});
