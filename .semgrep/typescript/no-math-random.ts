// Fixture for no-math-random (semgrep --test). The rule is scoped to src/ and main.ts.
declare const bytes: Uint8Array;

// ruleid: no-math-random
const id = Math.random().toString(36).slice(2);

// ruleid: no-math-random
const pick = Math.random;

// ok: no-math-random
const salt = crypto.getRandomValues(bytes);

// ok: no-math-random
const n = Math.trunc(Math.max(1, 2));
