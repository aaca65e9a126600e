/**
 * Response hardening (SECURITY.md "Transport and response hardening", "Errors and input"; RFC 9457): the security headers on every response,
 * errors included; problem+json for every error; a 500 that tells the client
 * nothing and the log everything; CORS only for configured origins.
 */
import assert from "node:assert/strict";
import { configure, getLogger, type LogRecord, reset } from "@logtape/logtape";
import { createApp } from "../src/app.ts";
import { StoreUnavailable } from "../src/db/store.ts";
import { createDeps } from "../src/deps.ts";
import { createTestApp, problem, type TestApp } from "./helpers.ts";

const REQUIRED: Record<string, string> = {
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "cross-origin-resource-policy": "same-origin",
};

function assertHardened(response: Response, label: string): void {
  for (const [name, value] of Object.entries(REQUIRED)) {
    assert.equal(response.headers.get(name), value, `${label}: ${name}`);
  }
  assert.match(response.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/, `${label}: x-request-id`);
  assert.equal(response.headers.get("server"), null, `${label}: server`);
  assert.equal(response.headers.get("x-powered-by"), null, `${label}: x-powered-by`);
}

async function responsesOfEveryKind(t: TestApp) {
  const admin = await t.user("root", ["admin"]);
  const viewer = await t.user("victor");
  const auth = (u: { basic: string }) => ({ headers: { Authorization: u.basic } });
  const created = await t.json("POST", "/products", { name: "x", priceCents: 1, stock: 1 }, auth(admin));
  const kept =
    (await (await t.json("POST", "/products", { name: "y", priceCents: 1, stock: 1 }, auth(admin))).json()).id;
  return {
    "200": await t.request("/health"),
    "201": created,
    "204": await t.request(`/products/${(await created.clone().json()).id}`, { method: "DELETE", ...auth(admin) }),
    "400": await t.request("/products", {
      method: "POST",
      headers: { ...auth(admin).headers, "Content-Type": "application/json" },
      body: "{",
    }),
    "401": await t.request("/products"),
    "403": await t.json("POST", "/products", { name: "x", priceCents: 1, stock: 1 }, auth(viewer)),
    "404": await t.request("/no/such/thing"),
    "405": await t.request("/health", { method: "DELETE" }),
    "409": await t.json("POST", "/auth/register", { username: "ROOT", password: "some long passphrase" }),
    "412": await t.json("PUT", `/products/${kept}`, { name: "x", priceCents: 1, stock: 1 }, {
      headers: { ...auth(admin).headers, "If-Match": '"9"' },
    }),
    "413": await t.request("/auth/register", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "x".repeat(70_000),
    }),
    "415": await t.request("/auth/register", { method: "POST", body: "x", headers: { "Content-Type": "text/plain" } }),
    "422": await t.json("POST", "/auth/register", { username: "x" }),
  };
}

Deno.test("every response — success and error alike — carries the security headers", async () => {
  await using t = await createTestApp();
  const responses = await responsesOfEveryKind(t);
  for (const [expected, response] of Object.entries(responses)) {
    assert.equal(response.status, Number(expected), `expected ${expected}, got ${response.status}`);
    assertHardened(response, expected);
    if (response.status >= 400) await problem(response);
    else await response.body?.cancel();
  }
});

Deno.test("a database that cannot serve is a 503 with Retry-After, its cause never in the body", async () => {
  await using t = await createTestApp();
  const viewer = await t.user("victor");
  const cause = "database is locked (SQLITE_BUSY) at /work/main/data/app.db";
  const products = { ...t.store.products, get: () => Promise.reject(new StoreUnavailable(cause)) };
  const store = new Proxy(t.store, {
    get(target, key) {
      if (key === "products") return products;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const app = createApp(createDeps(t.config, store));
  const response = await app.request("https://localhost/products/1", { headers: { Authorization: viewer.basic } });
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("Retry-After"), "1");
  assertHardened(response, "503");
  const body = await problem(response);
  assert.equal(body.type, "urn:secure-api:problem:service-unavailable");
  assert.ok(!JSON.stringify(body).includes("SQLITE"), "the cause stays out of the response");
});

Deno.test("an unexpected error is a generic 500: nothing internal in the body, the cause in the log with the request id", async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["secure-api"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
    ],
  });
  try {
    await using t = await createTestApp();
    const viewer = await t.user("victor");
    const secret = "SELECT password_hash FROM users WHERE id = 1 -- at /work/main/src/db/users_repo.ts:42";
    // A store whose product read fails with a message full of internals.
    const products = { ...t.store.products, get: () => Promise.reject(new Error(secret)) };
    const store = new Proxy(t.store, {
      get(target, key) {
        if (key === "products") return products;
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const deps = createDeps(t.config, store, { logger: getLogger(["secure-api", "test"]) });
    const app = createApp(deps);
    const response = await app.request("https://localhost/products/1", { headers: { Authorization: viewer.basic } });
    assert.equal(response.status, 500);
    assertHardened(response, "500");
    const body = await problem(response);
    assert.match(String(body.type), /internal$/);
    const text = JSON.stringify(body);
    for (const leak of ["SELECT", "password_hash", "users_repo", ".ts", "at ", "Error"]) {
      assert.ok(!text.includes(leak), `500 body leaks ${leak}: ${text}`);
    }
    const logged = records.find((r) => r.level === "error");
    assert.ok(logged, "the cause is logged");
    assert.equal(logged.properties.requestId, body.requestId);
    assert.equal((logged.properties.error as Error).message, secret);
  } finally {
    await reset();
  }
});

Deno.test("request ids are fresh per request and never taken from the client", async () => {
  await using t = await createTestApp();
  const a = await t.request("/health", { headers: { "X-Request-Id": "attacker-chosen-id" } });
  const b = await t.request("/health");
  assert.notEqual(a.headers.get("X-Request-Id"), "attacker-chosen-id");
  assert.notEqual(a.headers.get("X-Request-Id"), b.headers.get("X-Request-Id"));
});

Deno.test("CORS is off by default: no Access-Control headers for any origin", async () => {
  await using t = await createTestApp();
  const response = await t.request("/health", { headers: { Origin: "https://evil.example" } });
  assert.equal(response.headers.get("Access-Control-Allow-Origin"), null);
  const preflight = await t.request("/products", {
    method: "OPTIONS",
    headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
  });
  assert.equal(preflight.headers.get("Access-Control-Allow-Origin"), null);
});

Deno.test("CORS allows exactly the configured origins, never *", async () => {
  await using t = await createTestApp({
    env: { APP_CORS_ORIGINS: "https://app.example.com,https://admin.example.com" },
  });
  const allowed = await t.request("/health", { headers: { Origin: "https://app.example.com" } });
  assert.equal(allowed.headers.get("Access-Control-Allow-Origin"), "https://app.example.com");
  const other = await t.request("/health", { headers: { Origin: "https://app.example.com.evil.example" } });
  assert.notEqual(other.headers.get("Access-Control-Allow-Origin"), "https://app.example.com.evil.example");
  assert.notEqual(other.headers.get("Access-Control-Allow-Origin"), "*");
  const preflight = await t.request("/products", {
    method: "OPTIONS",
    headers: { Origin: "https://admin.example.com", "Access-Control-Request-Method": "POST" },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("Access-Control-Allow-Origin"), "https://admin.example.com");
  assert.match(preflight.headers.get("Access-Control-Allow-Headers") ?? "", /Authorization/);
});

Deno.test("the problem instance echoes the path, capped, as JSON data only", async () => {
  await using t = await createTestApp();
  const long = "/" + "a".repeat(3000);
  const response = await t.request(long);
  assert.equal(response.status, 404);
  const body = await problem(response);
  assert.equal((body.instance as string).length, 1024);
  const xss = await t.request("/%3Cscript%3Ealert(1)%3C/script%3E");
  assert.equal(xss.headers.get("Content-Type"), "application/problem+json");
});
