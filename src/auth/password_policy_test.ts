import assert from "node:assert/strict";
import { COMMON_PASSWORDS, passwordProblem } from "./password_policy.ts";
import { CONTEXT_WORDS } from "./password_strength.ts";

Deno.test("passwordProblem() accepts a long unremarkable passphrase", () => {
  assert.equal(passwordProblem("tangerine koala orbit 42", "alice"), null);
});

Deno.test("passwordProblem() counts code points, not UTF-16 units or bytes", () => {
  const fourteenEmoji = "🐙".repeat(14); // 28 UTF-16 units, 56 bytes, 14 code points
  assert.match(passwordProblem(fourteenEmoji, "alice")!, /at least 15 characters \(it has 14\)/);
  assert.equal(passwordProblem("🐙".repeat(15), "alice"), null);
  assert.equal(passwordProblem("🐙".repeat(128), "alice"), null);
  assert.match(passwordProblem("🐙".repeat(129), "alice")!, /at most 128/);
});

Deno.test("passwordProblem() counts after NFC normalisation", () => {
  const nfd = "e\u0301".repeat(15); // 30 code points in NFD, 15 in NFC
  assert.equal(passwordProblem(nfd, "alice"), null);
  assert.match(passwordProblem("e\u0301".repeat(14), "alice")!, /at least 15/);
});

Deno.test("passwordProblem() has no composition rules", () => {
  assert.equal(passwordProblem("alllowercaseletters", "alice"), null);
});

Deno.test("passwordProblem() refuses common passwords from a list of 10,000+, case-insensitively", () => {
  assert.ok(COMMON_PASSWORDS.size >= 10_000, `list has ${COMMON_PASSWORDS.size}`);
  const common = [...COMMON_PASSWORDS].find((p) => [...p].length >= 15)!;
  assert.ok(common);
  assert.equal(passwordProblem(common, "alice"), "is one of the most commonly used passwords");
  assert.equal(passwordProblem(common.toUpperCase(), "alice"), "is one of the most commonly used passwords");
});

Deno.test("passwordProblem() refuses a password equal to or containing the username", () => {
  assert.equal(passwordProblem("alice.wonderland", "alice.wonderland"), "must not contain the username");
  assert.equal(passwordProblem("my-name-is-ALICE-ok", "alice"), "must not contain the username");
});

Deno.test("passwordProblem() refuses the service's context words, ignoring case and separators, and configured ones", () => {
  for (
    const password of [
      "my secure-api passphrase",
      "SecureAPI-is-my-password",
      "secure_api and more words",
      "x Secure.Api x x x x",
    ]
  ) {
    assert.match(
      passwordProblem(password, "alice")!,
      /must not contain "secure-api", a word of this service/,
      password,
    );
  }
  assert.match(passwordProblem("the products api is mine", "alice")!, /must not contain "products-api"/);
  const withOwn = [...CONTEXT_WORDS, "Acme Corp"];
  assert.match(passwordProblem("welcome to acmecorp 2026", "alice", withOwn)!, /must not contain "Acme Corp"/);
  assert.equal(passwordProblem("welcome to acmecorp 2026", "alice"), null, "only when configured");
});
