import assert from "node:assert/strict";
import { type AdvisoryException, advisoryQuery, blocks, checkAdvisories, findings } from "./dep_check.ts";

const LOCK = JSON.stringify({
  version: "5",
  npm: {
    "hono@4.13.19": { integrity: "sha512-AAAA" },
    "tslib@1.14.1": { integrity: "sha512-AAAA" },
    "tslib@2.9.1": { integrity: "sha512-AAAA" },
  },
});

const advisory = (severity: string, range: string, id = 1) => ({
  id,
  url: `https://github.com/advisories/GHSA-${id}`,
  title: "a flaw",
  severity,
  vulnerable_versions: range,
});

function fakeService(body: unknown, status = 200): { fetch: typeof fetch; sent: unknown[] } {
  const sent: unknown[] = [];
  return {
    sent,
    fetch: (_url, init) => {
      sent.push(JSON.parse(String(init?.body)));
      return Promise.resolve(new Response(JSON.stringify(body), { status }));
    },
  };
}

Deno.test("advisoryQuery() sends every locked version of every package", () => {
  assert.deepEqual(advisoryQuery(LOCK), { hono: ["4.13.19"], tslib: ["1.14.1", "2.9.1"] });
});

Deno.test("checkAdvisories() fails on a high or critical advisory that matches the locked version", async () => {
  const service = fakeService({
    hono: [advisory("high", "<4.13.20")],
    tslib: [advisory("critical", ">=2.0.0 <2.9.2", 2)],
  });
  const outcome = await checkAdvisories({ lock: LOCK, fetch: service.fetch, today: "2026-12-01" });
  assert.ok(outcome.ran);
  assert.deepEqual(service.sent, [{ hono: ["4.13.19"], tslib: ["1.14.1", "2.9.1"] }]);
  assert.deepEqual(outcome.findings.map((f) => `${f.package}@${f.version}`), ["hono@4.13.19", "tslib@2.9.1"]);
  assert.ok(outcome.findings.every(blocks));
});

Deno.test("checkAdvisories() does not block on a range that misses the locked version, or on moderate and low", async () => {
  const service = fakeService({
    hono: [advisory("critical", "<4.0.0"), advisory("moderate", "<5.0.0", 2)],
    tslib: [advisory("low", "*", 3)],
  });
  const outcome = await checkAdvisories({ lock: LOCK, fetch: service.fetch, today: "2026-12-01" });
  assert.ok(outcome.ran);
  assert.deepEqual(outcome.findings.map((f) => [f.package, f.version, f.advisory.severity]), [
    ["hono", "4.13.19", "moderate"],
    ["tslib", "1.14.1", "low"],
    ["tslib", "2.9.1", "low"],
  ]);
  assert.equal(outcome.findings.filter(blocks).length, 0);
});

Deno.test("checkAdvisories() counts a version as affected when the advisory's range cannot be read", async () => {
  const service = fakeService({ hono: [advisory("high", "some day, maybe")] });
  const outcome = await checkAdvisories({ lock: LOCK, fetch: service.fetch, today: "2026-12-01" });
  assert.ok(outcome.ran);
  assert.equal(outcome.findings.length, 1);
  assert.equal(outcome.findings[0]!.rangeUnreadable, true);
  assert.ok(blocks(outcome.findings[0]!));
});

Deno.test("an exception accepts an advisory until it expires, and only for its package", () => {
  const query = { hono: ["4.13.19"], tslib: ["2.9.1"] };
  const response = { hono: [advisory("high", "*", 7)], tslib: [advisory("high", "*", 7)] };
  const exceptions: AdvisoryException[] = [
    {
      advisory: "https://github.com/advisories/GHSA-7",
      package: "hono",
      reason: "not reachable",
      expires: "2027-01-01",
    },
  ];
  const before = findings(query, response, exceptions, "2026-12-31");
  assert.deepEqual(before.map((f) => [f.package, blocks(f)]), [["hono", false], ["tslib", true]]);
  const after = findings(query, response, exceptions, "2027-01-01");
  assert.deepEqual(after.map((f) => [f.package, blocks(f)]), [["hono", true], ["tslib", true]]);
});

Deno.test("checkAdvisories() reports NOT RUN, never a pass, when the service cannot be asked", async () => {
  const refused = fakeService("", 405);
  assert.deepEqual(await checkAdvisories({ lock: LOCK, fetch: refused.fetch }), {
    ran: false,
    reason: "https://registry.npmjs.org/-/npm/v1/security/advisories/bulk answered HTTP 405",
  });
  const offline: typeof fetch = () => Promise.reject(new TypeError("dns error"));
  const outcome = await checkAdvisories({ lock: LOCK, fetch: offline });
  assert.equal(outcome.ran, false);
  assert.match((outcome as { reason: string }).reason, /unreachable: dns error/);
});

Deno.test("checkAdvisories() refuses an answer it cannot read instead of passing", async () => {
  for (const body of [[], { hono: "none" }, { hono: [{ id: 1 }] }]) {
    await assert.rejects(checkAdvisories({ lock: LOCK, fetch: fakeService(body).fetch }), Error, JSON.stringify(body));
  }
});
