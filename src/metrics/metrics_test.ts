import assert from "node:assert/strict";
import { createMetrics, methodLabel } from "./metrics.ts";

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

Deno.test("createMetrics() keeps each application's metrics in a registry of its own", async () => {
  const sources = {
    kdf: () => ({ active: 0, queued: 0, refused: 0 }),
    credentialCache: () => ({ hits: 0, misses: 0, entries: 0 }),
    auditHeadSeq: () => 0,
  };
  const a = createMetrics(sources);
  const b = createMetrics(sources);
  a.observeRequest("GET", "/health", 200, 0.001);
  assert.equal(
    sample(await a.render(), "secure_api_http_requests_total", { method: "GET", route: "/health", status: "200" }),
    1,
  );
  assert.equal(
    sample(await b.render(), "secure_api_http_requests_total", { method: "GET", route: "/health", status: "200" }),
    undefined,
  );
  const snapshot = await a.snapshot();
  assert.ok(snapshot.some((metric) => metric.name === "secure_api_http_requests_total"), "JSON for aggregation");
});

Deno.test("createMetrics() reads gauges and mirrored counters from their sources at scrape time", async () => {
  let kdf = { active: 1, queued: 2, refused: 3 };
  const metrics = createMetrics({
    kdf: () => kdf,
    credentialCache: () => ({ hits: 3, misses: 1, entries: 2 }),
    auditHeadSeq: () => 42,
  });
  let text = await metrics.render();
  assert.equal(sample(text, "secure_api_kdf_queued"), 2);
  assert.equal(sample(text, "secure_api_kdf_refused_total"), 3);
  assert.equal(sample(text, "secure_api_credential_cache_hit_ratio"), 0.75);
  assert.equal(sample(text, "secure_api_audit_chain_head_seq"), 42);
  kdf = { active: 0, queued: 0, refused: 5 };
  text = await metrics.render();
  assert.equal(sample(text, "secure_api_kdf_refused_total"), 5, "mirrored, not added up across scrapes");
  assert.equal(sample(text, "secure_api_kdf_queued"), 0);
});

Deno.test("methodLabel() keeps the standard methods and folds anything else into other", () => {
  assert.equal(methodLabel("GET"), "GET");
  assert.equal(methodLabel("DELETE"), "DELETE");
  assert.equal(methodLabel("FROB"), "other");
  assert.equal(methodLabel("get"), "other");
});
