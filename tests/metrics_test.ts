/**
 * `GET /metrics` (README "Operations"): Prometheus text from prom-client,
 * readable only with `metrics:read`, labelled by declared route (never the
 * raw path: an attacker cannot grow the registry), with rate-limit refusals,
 * the KDF queue and its refusals, the credential cache and the audit head.
 */
import assert from "node:assert/strict";
import { pbkdf2SHA256 } from "../src/crypto/password.ts";
import { basicAuth, createTestApp, type TestApp } from "./helpers.ts";

/** The value of the sample `name{labels}` in an exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? "").split(",").filter(Boolean);
    if (wanted.every((pair) => present.includes(pair)) && present.length === wanted.length) return Number(match[3]);
  }
  return undefined;
}

async function scrape(t: TestApp, authorization: string): Promise<string> {
  const res = await t.request("/metrics", { headers: { Authorization: authorization } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  return await res.text();
}

Deno.test("GET /metrics is not anonymous; metrics:read alone is enough, viewers are refused", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root", ["admin"]);
  const viewer = await t.user("val", ["viewer"]);
  t.deps.services.roles.create(null, "scraper", { description: "Prometheus", permissions: ["metrics:read"] }, {
    client: "test",
  });
  const scraper = await t.user("prom", ["scraper"]);

  const anonymous = await t.request("/metrics");
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  const refused = await t.request("/metrics", { headers: { Authorization: viewer.basic } });
  assert.equal(refused.status, 403);
  await refused.body?.cancel();
  assert.match(await scrape(t, admin.basic), /^# HELP secure_api_http_requests_total /m);
  assert.match(await scrape(t, scraper.basic), /# TYPE secure_api_http_request_duration_seconds histogram/);
});

Deno.test("/metrics counts requests by declared route and status, never by raw path; methods are bounded", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root", ["admin"]);
  for (const id of [1, 2, 3]) {
    await (await t.request(`/products/${id}`, { headers: { Authorization: admin.basic } })).body?.cancel();
  }
  for (const path of ["/nope/a", "/nope/b", "/wp-admin.php"]) await (await t.request(path)).body?.cancel();
  await (await t.request("/health", { method: "FROB" })).body?.cancel();

  const text = await scrape(t, admin.basic);
  assert.equal(
    sample(text, "secure_api_http_requests_total", { method: "GET", route: "/products/:id", status: "404" }),
    3,
  );
  assert.equal(sample(text, "secure_api_http_requests_total", { method: "GET", route: "unmatched", status: "404" }), 3);
  assert.equal(
    sample(text, "secure_api_http_requests_total", { method: "other", route: "unmatched", status: "405" }),
    1,
  );
  assert.doesNotMatch(text, /\/products\/1|\/nope|wp-admin|FROB/, "no raw path or method becomes a label");
  assert.equal(
    sample(text, "secure_api_http_request_duration_seconds_count", { method: "GET", route: "/products/:id" }),
    3,
  );
  assert.equal(
    sample(text, "secure_api_http_request_duration_seconds_bucket", {
      le: "+Inf",
      method: "GET",
      route: "/products/:id",
    }),
    3,
  );
});

Deno.test("/metrics counts rate-limit refusals by policy and scope", async () => {
  await using t = await createTestApp({ env: { APP_RATE_LIMIT_API: "3/60" } });
  const admin = await t.user("root", ["admin"]);
  for (let i = 0; i < 4; i++) await (await t.request("/health", { peer: "198.51.100.7" })).body?.cancel();
  const text = await scrape(t, admin.basic);
  assert.equal(sample(text, "secure_api_rate_limit_refused_total", { policy: "api", scope: "client" }), 1);
});

Deno.test("/metrics shows the KDF queue depth and refusals", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let slow = false;
  await using t = await createTestApp({
    env: { APP_KDF_CONCURRENCY: "1", APP_KDF_QUEUE: "1" },
    kdf: async (password, salt, iterations) => {
      if (slow) await gate;
      return await pbkdf2SHA256(password, salt, iterations);
    },
  });
  const admin = await t.user("root", ["admin"]);
  const token = (await (await t.request("/auth/login", { method: "POST", headers: { Authorization: admin.basic } }))
    .json()).token;
  slow = true;
  const wrong = (n: number) =>
    t.request("/auth/me", { headers: { Authorization: basicAuth(`nobody${n}`, "wrong password here") } });
  const running = wrong(1);
  const waiting = wrong(2);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const overflow = await wrong(3);
  assert.equal(overflow.status, 503);
  await overflow.body?.cancel();

  const during = await scrape(t, `Bearer ${token}`);
  assert.equal(sample(during, "secure_api_kdf_active"), 1);
  assert.equal(sample(during, "secure_api_kdf_queued"), 1);
  assert.equal(sample(during, "secure_api_kdf_refused_total"), 1);
  release();
  await Promise.all([running, waiting].map(async (p) => (await p).body?.cancel()));
  const after = await scrape(t, `Bearer ${token}`);
  assert.equal(sample(after, "secure_api_kdf_active"), 0);
  assert.equal(sample(after, "secure_api_kdf_queued"), 0);
});

Deno.test("/metrics shows the credential-cache hit ratio and the audit chain head", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root", ["admin"]);
  const token = (await (await t.request("/auth/login", { method: "POST", headers: { Authorization: admin.basic } }))
    .json()).token;
  const before = await scrape(t, `Bearer ${token}`);
  const hits = sample(before, "secure_api_credential_cache_hits_total")!;
  const misses = sample(before, "secure_api_credential_cache_misses_total")!;
  for (let i = 0; i < 3; i++) {
    await (await t.request("/auth/me", { headers: { Authorization: admin.basic } })).body?.cancel();
  }
  const after = await scrape(t, `Bearer ${token}`);
  assert.equal(sample(after, "secure_api_credential_cache_hits_total"), hits + 3, "three Basic requests, all cached");
  assert.equal(sample(after, "secure_api_credential_cache_misses_total"), misses);
  assert.equal(sample(after, "secure_api_credential_cache_hit_ratio"), (hits + 3) / (hits + 3 + misses));
  assert.equal(sample(after, "secure_api_credential_cache_entries"), 1);
  const head = await t.deps.audit.head();
  assert.equal(sample(after, "secure_api_audit_chain_head_seq"), head!.seq);
  assert.ok(head!.seq > 0);
});
