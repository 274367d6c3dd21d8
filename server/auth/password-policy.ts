// The rule for a new password, after NIST SP 800-63B §3.1.1.2: at least 8 characters, long passphrases welcome
// (up to 200), no composition rules, and no password an attacker tries first: one of the common passwords of
// zxcvbn-ts's list (@zxcvbn-ts/language-common, drawn from leaked-password corpora), only blanks, or one short
// run repeated. Every route that sets a password parses it with `newPasswordSchema`, so each refusal is a 400
// VALIDATION_FAILED whose issue names the rule.
import { dictionary } from '@zxcvbn-ts/language-common';
import { z } from 'zod';

export const PASSWORD_MIN_LENGTH = 8;
/** NIST asks for at least 64; 200 leaves room for passphrases and still bounds the KDF's input. */
export const PASSWORD_MAX_LENGTH = 200;

/** Lowercase, as the list is: `Password` is as guessable as `password`. */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary['passwords-common']);

// One to four characters repeated to the end ("aaaaaaaa", "12121212", "abcdabcd"): guessed as early as the list.
const REPEATED_RUN = /^(.{1,4})\1+$/su;

/** The rule `password` breaks, in words for the person choosing it; null when it is acceptable. */
export function passwordPolicyViolation(password: string): string | null {
  const normalised = password.normalize('NFC');
  // Counted in characters, not UTF-16 units: NIST counts each Unicode character as one.
  const length = [...normalised].length;
  if (length < PASSWORD_MIN_LENGTH) return `the password needs at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `the password is longer than ${PASSWORD_MAX_LENGTH} characters`;
  if (normalised.trim() === '') return 'the password cannot be only blanks';
  if (REPEATED_RUN.test(normalised)) return 'the password cannot be one character or a short run repeated';
  if (COMMON_PASSWORDS.has(normalised.toLowerCase())) return 'the password is one of the most common passwords; choose another';
  return null;
}

/** A password being set (sign-up, a member added with a first password): the policy above. */
export const newPasswordSchema = z
  .string()
  .superRefine((password, ctx) => {
    const violation = passwordPolicyViolation(password);
    if (violation) ctx.addIssue({ code: 'custom', message: violation });
  })
  .describe(`${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters; not one of the most common passwords, only blanks, or one to four characters repeated`);
