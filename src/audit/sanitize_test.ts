import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_FIELD_LENGTH, sanitizeText, sanitizeValue } from "./sanitize.ts";

// deno-lint-ignore no-control-regex -- the point is to find control characters
const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

Deno.test("sanitizeText() escapes CR, LF and other C0/C1 controls visibly", () => {
  assert.equal(sanitizeText("alice\r\nINFO forged line"), "alice\\u{000d}\\u{000a}INFO forged line");
  assert.equal(sanitizeText("a\u0000b\u007fc\u0085d\u2028e"), "a\\u{0000}b\\u{007f}c\\u{0085}d\\u{2028}e");
});

Deno.test("sanitizeText() escapes ANSI escape sequences", () => {
  assert.equal(sanitizeText("\x1b[2J\x1b[31mred"), "\\u{001b}[2J\\u{001b}[31mred");
});

Deno.test("sanitizeText() escapes bidirectional overrides, isolates and marks (Trojan Source)", () => {
  for (const c of ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]) {
    assert.doesNotMatch(sanitizeText(`admin${c}txt.exe`), RAW_UNSAFE);
  }
  assert.equal(sanitizeText("\u200e\u200f\u061c"), "\\u{200e}\\u{200f}\\u{061c}");
});

Deno.test("sanitizeText() doubles backslashes, so an escape cannot be forged", () => {
  // The literal text `\u{000a}` must not read the same as an escaped line feed.
  assert.equal(sanitizeText("\\u{000a}"), "\\\\u{000a}");
  assert.notEqual(sanitizeText("\\u{000a}"), sanitizeText("\n"));
});

Deno.test("sanitizeText() caps length and counts what it cut", () => {
  const capped = sanitizeText("x".repeat(10_240));
  assert.equal(capped, `${"x".repeat(MAX_FIELD_LENGTH)}…[${10_240 - MAX_FIELD_LENGTH} more]`);
  assert.equal(sanitizeText("abcdef", 3), "abc…[3 more]");
  assert.equal(sanitizeText("abc", 3), "abc");
});

Deno.test("sanitizeText() never splits a surrogate pair at the cap", () => {
  const text = `${"x".repeat(MAX_FIELD_LENGTH - 1)}😀tail`;
  const capped = sanitizeText(text);
  assert.doesNotMatch(capped, LONE_SURROGATE);
  assert.equal(
    capped,
    `${"x".repeat(MAX_FIELD_LENGTH - 1)}…[6 more]`,
    "the whole emoji (2 code units) and tail (4) are cut",
  );
});

Deno.test("sanitizeText() escapes lone surrogates so the text survives UTF-8 storage", () => {
  assert.equal(sanitizeText("a\ud800b"), "a\\u{d800}b");
  assert.equal(sanitizeText("a\udc00"), "a\\u{dc00}");
  assert.equal(sanitizeText("😀"), "😀");
});

Deno.test("sanitizeText() output is always one well-formed, control-free line", () => {
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 600 }), (input) => {
    const out = sanitizeText(input);
    assert.doesNotMatch(out, RAW_UNSAFE);
    assert.doesNotMatch(out, LONE_SURROGATE);
    assert.equal(new TextDecoder().decode(new TextEncoder().encode(out)), out, "UTF-8 round trip");
    assert.ok(out.length <= MAX_FIELD_LENGTH * 8 + 20);
  }));
});

Deno.test("sanitizeValue() sanitises keys and values at every depth and bounds the shape", () => {
  const value = sanitizeValue({
    "user\nname": "bob\r\n",
    nested: { list: ["\x1b[31m", 1, true, null], deeper: { a: { b: { c: "too deep" } } } },
    wide: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])),
    odd: [Number.NaN, Infinity, 10n, () => 1, Symbol("s")],
  }) as Record<string, unknown>;
  assert.equal(value["user\\u{000a}name"], "bob\\u{000d}\\u{000a}");
  const nested = value.nested as Record<string, unknown>;
  assert.deepEqual(nested.list, ["\\u{001b}[31m", 1, true, null]);
  assert.deepEqual(nested.deeper, { a: { b: "[depth limit]" } });
  assert.equal(Object.keys(value.wide as object).length, 32);
  assert.deepEqual(value.odd, ["NaN", "Infinity", "[bigint]", "[function]", "[symbol]"]);
});

Deno.test("sanitizeValue() keeps __proto__ as a plain key, never as a prototype", () => {
  const input = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
  const out = sanitizeValue(input) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(Object.keys(out), ["__proto__", "a"]);
  assert.equal((out as { polluted?: boolean }).polluted, undefined);
  assert.equal(JSON.stringify(out), '{"__proto__":{"polluted":true},"a":1}');
});
