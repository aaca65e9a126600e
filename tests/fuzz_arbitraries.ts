/**
 * fast-check generators for `tests/fuzz_test.ts`: hostile strings, JSON
 * text written by hand (so `__proto__` and duplicate keys survive
 * serialisation), raw bodies, path segments, query strings and headers, and
 * {@link requestFor}, which assembles them into requests on the declared
 * routes.
 */
import fc from "fast-check";
import type { RouteDefinition } from "../src/routes/route.ts";
import { basicAuth } from "./helpers.ts";

/** One generated request. */
export interface FuzzRequest {
  /** The operation the request was derived from. */
  op: string;
  method: string;
  path: string;
  headers: [string, string][];
  body: string | null;
  peer: string;
}

// ---------------------------------------------------------------------------
// Generators

const HOSTILE = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "x\ud800y",
  "\ud83d\ude00",
  "\u202e\u0301",
  "\ufeff",
  "\u2028\u2029",
  "İstanbul",
  "ǅ",
  "' OR '1'='1",
  "'; DROP TABLE products; --",
  '" OR 1=1 --',
  "1 UNION SELECT password_hash FROM users",
  "%' ESCAPE '\\",
  "_%",
  "$(id)",
  "`id`",
  "; ls -la /",
  "| cat /etc/passwd",
  "&& rm -rf /",
  "../../../../etc/passwd",
  "..\\..\\boot.ini",
  "%00",
  "%2e%2e%2f",
  "${7*7}",
  "{{7*7}}",
  "<script>alert(1)</script>",
  "\r\nX-Injected: 1",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "1e400",
  "-0",
  "NaN",
  "Infinity",
  "9007199254740993",
  "0x10",
  "admin",
  "viewer",
  "products:manage",
  "x".repeat(5000),
];

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

const KEYS = [
  "name",
  "description",
  "priceCents",
  "stock",
  "username",
  "password",
  "currentPassword",
  "newPassword",
  "roles",
  "permissions",
  "id",
  "ownerId",
  "version",
  "createdAt",
  "__proto__",
  "constructor",
  "prototype",
  "polluted",
];
const jsonKey = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: hostileString })
  .map((k) => JSON.stringify(k));

const jsonNumber = fc.oneof(
  fc.constantFrom("0", "-0", "1", "-1", "1e400", "-1e400", "1e-400", "5e-324", "1.5", "2e1", "9007199254740991"),
  fc.constantFrom("9007199254740992", "123456789012345678901234567890", "0.1e1", "1E+2"),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
);

/** JSON text (as written, so keys such as `__proto__` and duplicate keys survive). */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    hostileString.map((s) => JSON.stringify(s)),
    jsonNumber,
    fc.constantFrom("true", "false", "null"),
    tie("array"),
    tie("object"),
  ),
  array: fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
  object: fc.array(fc.tuple(jsonKey, tie("value")), { maxLength: 6 })
    .map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(",")}}`),
})).value;

/** Bodies close to valid ones, with one or two hostile fields: these get past the first checks. */
const nearlyValid = fc.tuple(
  fc.constantFrom(
    { name: "Lamp", priceCents: 100, stock: 1 },
    { username: "fuzzer", password: "a-long-enough-passphrase-42" },
    { currentPassword: "x", newPassword: "y" },
    { roles: ["viewer"] },
    { name: "fuzzrole", permissions: ["products:read"] },
    { description: "d", permissions: [] },
  ),
  fc.array(fc.tuple(jsonKey, jsonText), { maxLength: 2 }),
).map(([base, extra]) => {
  const text = JSON.stringify(base);
  const tail = extra.map(([k, v]) => `,${k}:${v}`).join("");
  return text === "{}" ? `{${tail.slice(1)}}` : text.slice(0, -1) + tail + "}";
});

const RAW_BODIES = [
  "",
  "{",
  "[",
  "nul",
  '{"a":}',
  '{"a":1,}',
  "{'a':1}",
  "\ufeff{}",
  "\u0000",
  "1e400",
  "-0",
  '"\\ud800"',
  '{"name":"\\u0000"}',
  '{"__proto__":{"polluted":1},"name":"x","priceCents":1,"stock":1}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"name":"a","name":"b","priceCents":1,"stock":1}',
  "[".repeat(20_000) + "]".repeat(20_000),
  '{"a":'.repeat(5_000) + "1" + "}".repeat(5_000),
  "x".repeat(70_000),
  JSON.stringify({ name: "é".repeat(40_000), priceCents: 1, stock: 1 }),
];

const body = fc.oneof(
  { weight: 3, arbitrary: nearlyValid },
  { weight: 3, arbitrary: jsonText },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_BODIES) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
);

/** A percent-encoded segment or value; raw, possibly malformed, sequences too. */
const urlPart = fc.oneof(
  { weight: 3, arbitrary: hostileString.map((s) => s.replace(/[\ud800-\udfff]/g, "\ufffd")).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.constantFrom("%", "%%", "%ZZ", "%E0%A4%A", "%C0%AF", "%ED%A0%80", "%FF", "+", "=", "&") },
);

const idValue = fc.oneof(
  fc.constantFrom("1", "2", "3", "0", "-1", "01", "1.0", "1e3", "0x1", "99999999999999999999", "9007199254740993"),
  fc.constantFrom("%20" + "1", "1%20", "%D9%A1", "%EF%BC%91", "1%00", "..", "%2E%2E", "1;2", "1%2F2"),
  urlPart,
);

const queryString = fc.array(
  fc.tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom("limit", "cursor", "q", "since", "until", "event", "actor") },
      { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "prototype", "limit[]", "a[b]", "") },
      { weight: 1, arbitrary: urlPart },
    ),
    fc.oneof(
      { weight: 2, arbitrary: urlPart },
      { weight: 1, arbitrary: fc.constantFrom("1", "100", "101", "0", "20", "eyJhZnRlciI6MX0", "2026-01-01") },
      { weight: 1, arbitrary: fc.constantFrom("2026-02-30T25:61:00Z", "sys_startup", "1", "e30", "1e400") },
    ),
  ),
  { maxLength: 5 },
).map((pairs) => pairs.length === 0 ? "" : "?" + pairs.map(([k, v]) => `${k}=${v}`).join("&"));

/** Characters a header value may carry on the wire (no CR, LF or NUL). */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)),
  maxLength: 60,
});
const base64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "application/json, text/plain",
  "application/jsonx",
  "application/problem+json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "",
];

/** Context every generator needs: the seeded users and ids. */
export interface Seeded {
  auth: Record<string, string>;
  ids: string[];
}

/** Which parts of the request are hostile; `authHeavy` makes most Authorization headers malformed. */
export interface Pieces {
  body?: boolean;
  query?: boolean;
  path?: boolean;
  headers?: boolean;
  authHeavy?: boolean;
}

export function requestFor(seeded: Seeded, pieces: Pieces, operations: readonly RouteDefinition[]) {
  const malformedAuth = fc.oneof(
    fc.constantFrom(
      "Basic",
      "Basic ",
      "Basic =",
      "Basic ====",
      "Basic Og==",
      "Basic !!!!",
      "basic " + base64("root"),
      "Basic " + base64(":nouser"),
      "Basic " + base64("mallory:wrong-password-for-sure"),
      "Basic " + base64("\u0000root:x"),
      "Basic " + "A".repeat(5_000),
      "Bearer",
      "Bearer ",
      "Bearer a b",
      "Bearer " + "f".repeat(64),
      "Digest username=root",
      "Negotiate YII=",
    ),
    headerValue,
    fc.string({ unit: "binary", maxLength: 30 }).map((s) => "Basic " + base64(s)),
    fc.tuple(hostileString, hostileString).map(([u, p]) => basicAuth(u.replace(/:/g, ""), p)),
  );
  // Mostly valid credentials, so hostile input reaches the validators and handlers behind authentication;
  // the header property flips the odds to hammer the Authorization parser instead.
  const authorization = fc.oneof(
    { weight: pieces.authHeavy ? 1 : 6, arbitrary: fc.constantFrom(...Object.values(seeded.auth)) },
    { weight: pieces.authHeavy ? 2 : 1, arbitrary: malformedAuth },
  );
  const extraHeader = fc.oneof(
    fc.tuple(fc.constant("Authorization"), authorization),
    fc.tuple(fc.constantFrom("If-Match", "If-None-Match"), fc.oneof(headerValue, fc.constantFrom('"1"', "*", 'W/"1"'))),
    fc.tuple(fc.constant("X-Forwarded-For"), fc.oneof(headerValue, fc.ipV4(), fc.ipV6(), fc.constant("1.2.3.4, ::1"))),
    fc.tuple(
      fc.constantFrom("Accept", "Origin", "Content-Encoding", "Transfer-Encoding-X", "X-Request-Id"),
      headerValue,
    ),
  );
  const headers = fc.tuple(
    fc.option(authorization, { nil: undefined, freq: 8 }),
    fc.oneof(
      { weight: pieces.headers ? 2 : 8, arbitrary: fc.constant("application/json") },
      { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
      { weight: 1, arbitrary: headerValue },
    ),
    pieces.headers ? fc.array(extraHeader, { maxLength: 4 }) : fc.constant([] as [string, string][]),
  ).map(([auth, type, extra]) => {
    const list: [string, string][] = [];
    if (auth !== undefined) list.push(["Authorization", auth]);
    list.push(["Content-Type", type]);
    return [...list, ...extra];
  });

  // Operations that read what is being fuzzed come up three times as often as the rest.
  const reads = (o: RouteDefinition) =>
    (pieces.body && o.body) || (pieces.query && o.query) || (pieces.path && o.params) ? 3 : 1;
  const op = fc.oneof(...operations.map((o) => ({
    weight: reads(o),
    arbitrary: fc.constant<Pick<RouteDefinition, "operationId" | "method" | "path">>(o),
  })));
  const otherMethod = fc.oneof(
    { weight: 8, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD") },
  );

  return fc.record({
    op,
    otherMethod,
    id: pieces.path ? idValue : fc.constantFrom(...seeded.ids),
    name: pieces.path ? urlPart : fc.constantFrom("viewer", "editor", "fuzzrole"),
    query: pieces.query ? queryString : fc.constant(""),
    headers,
    body: pieces.body ? body : fc.constant(null),
    peer: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom("10.0.0.1", "10.0.0.2")),
  }).map(({ op, otherMethod, id, name, query, headers, body, peer }): FuzzRequest => ({
    op: op.operationId,
    method: otherMethod ?? op.method,
    path: op.path.replace(":id", id).replace(":name", name) + query,
    headers,
    body,
    peer,
  }));
}
