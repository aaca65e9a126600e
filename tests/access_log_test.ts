/**
 * The access log (README "Operations"; ASVS 5.0 16.2.1, 16.3.x): one line
 * per request in the `secure-api.access` category, with who did what and the
 * outcome, and never a secret — no header, no body, no query value.
 */
import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { colorWanted, logFormatter } from "../src/logging.ts";
import { queryNames } from "../src/middleware/access_log.ts";
import { createTestApp, TEST_PEER } from "./helpers.ts";
import { captureLogs } from "./log_capture.ts";

type Line = { logger: string; message: string; properties: Record<string, unknown> };

function accessLines(lines: Record<string, unknown>[]): Line[] {
  return (lines as Line[]).filter((line) => line.logger === "secure-api.access");
}

Deno.test("the access log has one JSON line per request with method, route, path, query names, status, duration, ids, client", async () => {
  await using logs = await captureLogs("info");
  await using t = await createTestApp();
  const erin = await t.user("erin", ["editor"]);
  const created = await t.json("POST", "/products", { name: "Kettle", priceCents: 1, stock: 1 }, {
    headers: { Authorization: erin.basic },
  });
  const id = (await created.json()).id;
  const read = await t.request(`/products/${id}?fields=name&fields=stock&verbose`, {
    headers: { Authorization: erin.basic },
  });
  await read.body?.cancel();
  const missing = await t.request("/nowhere");
  await missing.body?.cancel();

  const lines = accessLines(logs.json());
  assert.equal(lines.length, 3, "one line per request");
  const [post, get, notFound] = lines;
  assert.equal(get!.properties.method, "GET");
  assert.equal(get!.properties.route, "/products/:id");
  assert.equal(get!.properties.path, `/products/${id}`);
  assert.deepEqual(get!.properties.query, ["fields", "verbose"]);
  assert.equal(get!.properties.status, 200);
  assert.equal(typeof get!.properties.durationMs, "number");
  assert.equal(get!.properties.requestId, read.headers.get("X-Request-Id"));
  assert.equal(get!.properties.userId, erin.id);
  assert.equal(get!.properties.client, TEST_PEER);
  assert.equal(
    get!.message,
    `"${TEST_PEER}" "user ${erin.id}" "GET" "/products/${id}" → 200 in ${get!.properties.durationMs} ms`,
  );
  assert.equal(post!.properties.status, 201);
  assert.equal(post!.properties.route, "/products");
  assert.equal(notFound!.properties.route, null, "no declared route matched");
  assert.equal(notFound!.properties.status, 404);
  assert.equal(notFound!.properties.userId, null);
});

Deno.test("no secret reaches the access log — not the Authorization header, not a token or password in the query", async () => {
  await using logs = await captureLogs("info");
  await using t = await createTestApp();
  const user = await t.user("frank", ["viewer"]);
  const login = await t.request("/auth/login", { method: "POST", headers: { Authorization: user.basic } });
  const { token } = await login.json();
  const secrets = [user.password, token, "hunter2-in-the-query", "s3cr3t-api-key", user.basic.slice(6)];
  for (
    const [path, authorization] of [
      [`/auth/me?token=${token}&password=hunter2-in-the-query`, `Bearer ${token}`],
      ["/products?api_key=s3cr3t-api-key&limit=5", user.basic],
      ["/auth/me", "Basic " + btoa(`frank:${user.password}x`)],
    ]
  ) {
    const res = await t.request(path!, { headers: { Authorization: authorization! } });
    await res.body?.cancel();
  }
  const lines = accessLines(logs.json());
  assert.equal(lines.length, 4);
  assert.deepEqual(lines[1]!.properties.query, ["token", "password"], "names are kept, values dropped");
  assert.equal(lines[3]!.properties.status, 401);
  const text = logs.lines.join("");
  for (const secret of secrets) assert.ok(!text.includes(secret), `a secret reached the log: ${secret.slice(0, 4)}…`);
});

Deno.test("control characters in the path are escaped in the access log, long paths capped (no forged lines)", async () => {
  await using logs = await captureLogs("info");
  await using t = await createTestApp();
  const res = await t.request(`/a%0A%1B[31mforged%0Aline/${"x".repeat(500)}`);
  await res.body?.cancel();
  const [line] = accessLines(logs.json());
  const path = line!.properties.path as string;
  assert.ok(!path.includes("\n") && !path.includes("\u001b"), path);
  assert.match(path, /\\u\{000a\}\\u\{001b\}\[31mforged/);
  assert.ok(path.length < 300);
});

Deno.test("APP_ACCESS_LOG is the access log's one switch; a quieter APP_LOG_LEVEL does not silence it", async () => {
  await using logs = await captureLogs("error");
  await using t = await createTestApp();
  const res = await t.request("/health");
  await res.body?.cancel();
  assert.equal(accessLines(logs.json()).length, 1);
});

Deno.test("APP_ACCESS_LOG=off writes no access log", async () => {
  await using logs = await captureLogs("info");
  await using t = await createTestApp({ env: { APP_ACCESS_LOG: "off" } });
  const res = await t.request("/health");
  await res.body?.cancel();
  assert.equal(accessLines(logs.json()).length, 0);
  await assert.rejects(createTestApp({ env: { APP_ACCESS_LOG: "maybe" } }), /APP_ACCESS_LOG/);
});

Deno.test("the pretty access log shows who did what on one line, with no colour under NO_COLOR", async () => {
  await using logs = await captureLogs("info");
  await using t = await createTestApp();
  const user = await t.user("gina", ["viewer"]);
  const res = await t.request("/products?limit=1", { headers: { Authorization: user.basic } });
  await res.body?.cancel();
  const record = logs.records.find((r) => r.category.join(".") === "secure-api.access") as LogRecord;
  const plain = logFormatter("pretty", false)(record);
  assert.equal(plain.trimEnd().split("\n").length, 1, "one line");
  assert.match(plain, new RegExp(`"${TEST_PEER}" "user ${user.id}" "GET" "/products" → 200 in [0-9.]+ ms`));
  assert.ok(!plain.includes("\u001b"), "no escape sequences");
  assert.ok(logFormatter("pretty", true)(record).includes("\u001b["), "coloured when colours are wanted");
  assert.equal(colorWanted(() => "1"), false);
  assert.equal(colorWanted(() => ""), true, "an empty NO_COLOR does not count (no-color.org)");
  assert.equal(colorWanted(() => undefined), true);
});

Deno.test("queryNames() keeps each parameter name once and drops every value", () => {
  assert.deepEqual(queryNames("https://x/p?a=1&b=2&a=3&c"), ["a", "b", "c"]);
  assert.deepEqual(queryNames("https://x/p"), []);
  assert.deepEqual(queryNames("https://x/p?"), []);
  assert.equal(queryNames(`https://x/p?${Array.from({ length: 40 }, (_, i) => `k${i}=v`).join("&")}`).length, 16);
});
