import assert from "node:assert/strict";
import { createZxcvbn, estimateStrength, MAX_ESTIMATED_LENGTH, MIN_GUESSES_LOG10 } from "./password_strength.ts";

const zxcvbn = createZxcvbn();
const estimate = (password: string, context: string[] = []) => estimateStrength(zxcvbn, password, context);

Deno.test("estimateStrength() refuses long passwords built from patterns, naming the pattern", () => {
  const weak: [string, RegExp][] = [
    ["passwordpassword1", /a repeated word/],
    ["iloveyouiloveyou", /a repeated word/],
    ["monkeymonkeymonkey", /a repeated word/],
    ["qwertyuiopasdfghjkl", /common passwords or words/],
    ["1qaz2wsx3edc4rfv5tgb", /common passwords or words|a keyboard pattern/],
    ["zxcvbnmasdfghjkl", /common passwords or words|a keyboard pattern/],
    ["abcdefghijklmnopq", /a sequence like abcd or 1234/],
    ["Password12345678", /common passwords or words/],
    ["aaaaaaaaaaaaaaaaaaaa", /a repeated word or characters/],
    ["summer2024summer2024", /a repeated word/],
  ];
  for (const [password, because] of weak) {
    const { problem, guessesLog10 } = estimate(password);
    assert.ok(guessesLog10 < MIN_GUESSES_LOG10, `${password}: 10^${guessesLog10.toFixed(1)} guesses`);
    assert.match(
      problem ?? "",
      /^is too easy to guess \(it is built from .+\); use more unrelated words or characters$/,
    );
    assert.match(problem!, because, password);
  }
});

Deno.test("estimateStrength() accepts passphrases and random strings", () => {
  for (
    const password of [
      "a kettle of fish, twice",
      "marmalade skylight over the pier",
      "tangerine koala orbit 42",
      "pw-hjkqwrtzplmnbvcxsdfgrt",
    ]
  ) {
    const { problem, guessesLog10 } = estimate(password);
    assert.equal(problem, null, `${password}: 10^${guessesLog10.toFixed(1)}`);
  }
});

Deno.test("estimateStrength() ranks the context words as the commonest, so a password made of them is weak", () => {
  const withContext = estimate("zephyrquill-brightkettle", ["zephyrquill", "brightkettle"]);
  assert.ok(withContext.guessesLog10 < estimate("zephyrquill-brightkettle").guessesLog10);
  assert.match(
    withContext.problem ?? "",
    /common passwords or words/,
    "two context words and a dash are easy to guess",
  );
});

Deno.test("estimateStrength() sees at most the first 64 code points, so its cost is bounded", () => {
  const strongHead = "pw-hjkqwrtzplmnbvcxsdfgrt marmalade skylight over the pier at noon".slice(
    0,
    MAX_ESTIMATED_LENGTH,
  );
  assert.equal([...strongHead].length, MAX_ESTIMATED_LENGTH);
  // What comes after the first 64 code points is not looked at (the head alone decides).
  assert.equal(estimate(strongHead + "password".repeat(8)).problem, null);
  // A hostile 128-character digit-and-symbol string: the capped estimate stays well under a second.
  const hostile = "1!2@3#4$5%6^7&8*9(0)".repeat(7).slice(0, 128);
  const started = performance.now();
  estimate(hostile);
  const ms = performance.now() - started;
  assert.ok(ms < 2_000, `${ms.toFixed(0)} ms`);
});
