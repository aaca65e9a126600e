/**
 * Password strength (ASVS 5.0 6.2.4, 6.2.12; NIST SP 800-63B-4 §3.1.1.2):
 * the length rule and the exact common-password list (`password_policy.ts`)
 * let through what attackers try first among long passwords —
 * `passwordpassword1`, `1qaz2wsx3edc4rfv`, `iloveyouiloveyou`, a common
 * password with a year appended. So every new password is also run through
 * zxcvbn (`@zxcvbn-ts/core`, the estimator Dropbox published and the OWASP
 * ASVS and NIST both point to for this), with the 49,000+ common passwords and
 * the diceware word list of `@zxcvbn-ts/language-common` and its keyboard
 * graphs, plus the context words of {@link CONTEXT_WORDS} and the username.
 * It models how crackers build guesses — dictionary words, l33t, repeats,
 * sequences, keyboard walks, dates — and estimates how many guesses this
 * password would take. Fewer than 10^{@link MIN_GUESSES_LOG10} is refused, and
 * the refusal names the pattern found.
 *
 * Cost: the estimate is CPU work on the order of milliseconds for ordinary
 * passwords but up to ~100 ms for long digit-and-symbol strings (l33t
 * variants multiply). So it sees at most the first
 * {@link MAX_ESTIMATED_LENGTH} code points (a password longer than that was
 * already refused or accepted on those), l33t substitutions are capped, and
 * the server runs it in a Worker (`strength_estimator.ts`), never on the
 * event loop. Only registration and password changes pay it.
 *
 * This module is what the Worker loads: zxcvbn and nothing of the application.
 */
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";

/** Passwords must be estimated to need at least 10^10 guesses (zxcvbn score 4). */
export const MIN_GUESSES_LOG10 = 10;

/** Code points of a password the estimator sees; the rest is not estimated (it bounds the CPU cost). */
export const MAX_ESTIMATED_LENGTH = 64;

/**
 * Context words (ASVS 5.0 6.1.2, 6.2.11; docs/authentication.md "Password
 * policy"): the service's own names, which an attacker guessing passwords
 * for this service tries first. A password containing one — ignoring case,
 * spaces and `.`, `_`, `-` — is refused; the estimator also ranks them as
 * the most common words. The username is added per check, and operators add
 * their organisation's words with `APP_PASSWORD_CONTEXT_WORDS`.
 */
export const CONTEXT_WORDS: readonly string[] = ["secure-api", "secureapi", "products-api", "productsapi"];

/** Lower case without spaces and `.`, `_`, `-`: "Secure API" and "secure_api" are the same word. */
export function foldContextWord(text: string): string {
  return text.normalize("NFC").toLowerCase().replace(/[\s._-]+/g, "");
}

/** The pattern names zxcvbn reports, as the reason a password is refused. */
const PATTERNS: Record<string, string> = {
  dictionary: "common passwords or words",
  repeat: "a repeated word or characters",
  sequence: "a sequence like abcd or 1234",
  spatial: "a keyboard pattern",
  date: "a date",
  regex: "a recent year",
};

/** What the estimator says of one password. */
export interface StrengthEstimate {
  /** log10 of the estimated number of guesses. */
  readonly guessesLog10: number;
  /** Why it is too weak (the patterns found), or null when strong enough. */
  readonly problem: string | null;
}

/** Builds the estimator (about 0.3 s: it ranks the dictionaries); reuse it. */
export function createZxcvbn(): ZxcvbnFactory {
  return new ZxcvbnFactory({
    dictionary: { ...common.dictionary },
    graphs: common.adjacencyGraphs,
    maxLength: MAX_ESTIMATED_LENGTH,
    // The default (100) lets a 64-character digit-and-symbol string take seconds.
    l33tMaxSubstitutions: 20,
    // Levenshtein matching against 49,000 words costs seconds per long password.
    useLevenshteinDistance: false,
  });
}

/** Estimates `password` with `zxcvbn`, `context` (the username, context words) ranked as the most common words. */
export function estimateStrength(
  zxcvbn: ZxcvbnFactory,
  password: string,
  context: readonly string[],
): StrengthEstimate {
  const seen = [...password.normalize("NFC")].slice(0, MAX_ESTIMATED_LENGTH).join("");
  const result = zxcvbn.check(seen, [...context]);
  if (result.guessesLog10 >= MIN_GUESSES_LOG10) return { guessesLog10: result.guessesLog10, problem: null };
  const found = [...new Set(result.sequence.map((m) => PATTERNS[m.pattern]).filter((p) => p !== undefined))];
  const because = found.length > 0 ? `it is built from ${found.join(", ")}` : "it is too short for its variety";
  return {
    guessesLog10: result.guessesLog10,
    problem: `is too easy to guess (${because}); use more unrelated words or characters`,
  };
}
