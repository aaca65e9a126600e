/**
 * The password policy of NIST SP 800-63B-4 §3.1.1.2 and ASVS 5.0 6.2.x:
 *
 * - 15 to 128 characters, counted in Unicode code points after NFC
 *   normalisation (so "é" typed as one or two code points counts the same);
 * - no composition rules (they make passwords worse, not stronger);
 * - refused when it is one of the 49,000+ most common passwords
 *   (`@zxcvbn-ts/language-common`, compared case-insensitively);
 * - refused when it equals or contains the username, or one of the context
 *   words (the service's names, `CONTEXT_WORDS` in `password_strength.ts`,
 *   and `APP_PASSWORD_CONTEXT_WORDS`), ignoring case and separators;
 * - then estimated (`password_strength.ts`): too easy to guess is refused.
 *   That step costs CPU and runs in a Worker, so it is the accounts
 *   service's second step, after these cheap checks.
 *
 * Every refusal says why, so the user can choose better.
 */
import * as common from "@zxcvbn-ts/language-common";
import { CONTEXT_WORDS, foldContextWord } from "./password_strength.ts";

/** Shortest acceptable password, in code points. */
export const MIN_PASSWORD_LENGTH = 15;
/** Longest acceptable password, in code points (bounds hashing work, not security). */
export const MAX_PASSWORD_LENGTH = 128;

const dictionary = (common as unknown as { dictionary: Record<string, readonly string[]> }).dictionary;

/** The common-password list, lower-cased. */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  dictionary["passwords-common"]!.map((p) => p.toLowerCase()),
);

/**
 * Why `password` is not acceptable for `username` by the cheap rules, or
 * null when it passes them (the strength estimate comes after).
 */
export function passwordProblem(
  password: string,
  username: string,
  contextWords: readonly string[] = CONTEXT_WORDS,
): string | null {
  const normalized = password.normalize("NFC");
  const length = [...normalized].length;
  if (length < MIN_PASSWORD_LENGTH) {
    return `must be at least ${MIN_PASSWORD_LENGTH} characters (it has ${length})`;
  }
  if (length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  const lower = normalized.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return "is one of the most commonly used passwords";
  if (username !== "" && lower.includes(username.toLowerCase())) return "must not contain the username";
  const folded = foldContextWord(normalized);
  const word = contextWords.find((w) => folded.includes(foldContextWord(w)));
  if (word !== undefined) return `must not contain "${word}", a word of this service (docs/authentication.md)`;
  return null;
}
