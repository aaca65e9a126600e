import assert from "node:assert/strict";
import { MAX_AUTHORIZATION_LENGTH, parseAuthorization } from "./authorization_header.ts";

const basic = (text: string) => `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(text)))}`;

Deno.test("parseAuthorization() splits Basic credentials at the first colon", () => {
  assert.deepEqual(parseAuthorization(basic("alice:pa:ss:word")), {
    scheme: "basic",
    username: "alice",
    password: "pa:ss:word",
  });
});

Deno.test("parseAuthorization() keeps the password exactly as sent: no trimming, no truncation", () => {
  const password = `  ${"x".repeat(300)}  `;
  assert.equal((parseAuthorization(basic(`alice:${password}`)) as { password: string }).password, password);
});

Deno.test("parseAuthorization() accepts an empty password (it then fails verification, not parsing)", () => {
  assert.deepEqual(parseAuthorization(basic("alice:")), { scheme: "basic", username: "alice", password: "" });
});

Deno.test("parseAuthorization() decodes UTF-8 credentials", () => {
  assert.deepEqual(parseAuthorization(basic("zoë:pässwörd-ñ-日本")), {
    scheme: "basic",
    username: "zoë",
    password: "pässwörd-ñ-日本",
  });
});

Deno.test("parseAuthorization() treats the scheme case-insensitively", () => {
  assert.equal(parseAuthorization(basic("a:b").replace("Basic", "bAsIc"))?.scheme, "basic");
  assert.deepEqual(parseAuthorization("BEARER abc"), { scheme: "bearer", token: "abc" });
});

Deno.test("parseAuthorization() refuses malformed headers instead of throwing", () => {
  const bad = [
    "",
    "Basic",
    "Basic ",
    "Basic !!!!",
    "Basic abc", // length not a multiple of 4
    "Basic " + btoa("no-colon"),
    "Basic " + btoa(":password-without-user"),
    "Basic " + btoa("\u0000user:pw"),
    "Basic " + btoa("us\ner:pw"),
    "Basic /w==", // 0xFF: invalid UTF-8
    "Digest username=alice",
    "Bearer",
    "Bearer two words",
    "Token abc",
    "Basic" + btoa("a:b"), // no space
  ];
  for (const header of bad) assert.equal(parseAuthorization(header), null, JSON.stringify(header));
});

Deno.test("parseAuthorization() refuses a header over 4 KiB without decoding it", () => {
  const header = basic(`alice:${"p".repeat(MAX_AUTHORIZATION_LENGTH)}`);
  assert.ok(header.length > MAX_AUTHORIZATION_LENGTH);
  assert.equal(parseAuthorization(header), null);
  assert.equal(parseAuthorization(undefined), null);
});
