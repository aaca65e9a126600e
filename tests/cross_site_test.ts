/**
 * Cross-site requests cannot act with a browser's cached Basic credentials
 * (SECURITY.md "Cross-site requests", ASVS 5.0 3.5.2): each attack is what a
 * hostile page can make a victim's browser send without a CORS preflight,
 * carrying the `Authorization` header the browser cached for this origin.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";

const EVIL = "https://evil.example";

async function setup(env: Record<string, string> = {}): Promise<{ t: TestApp; admin: TestUser; victim: TestUser }> {
  const t = await createTestApp({ env });
  const admin = await t.user("root", ["admin"]);
  const victim = await t.user("victim");
  return { t, admin, victim };
}

async function isDisabled(t: TestApp, id: number): Promise<boolean> {
  return (await t.deps.store.users.findById(id))!.disabled;
}

Deno.test("a cross-site form POST with cached Basic credentials cannot disable a user: 403, nothing changed, no KDF, audited", async () => {
  const { t, admin, victim } = await setup();
  await using _ = t;
  const kdfBefore = t.kdf.calls;
  const res = await t.request(`/users/${victim.id}/disable`, {
    method: "POST",
    headers: {
      Authorization: admin.basic, // what the browser attaches from its cache
      Origin: EVIL,
      "Sec-Fetch-Site": "cross-site",
      "Sec-Fetch-Mode": "navigate",
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: "",
  });
  assert.equal(res.status, 403);
  assert.match(String((await problem(res)).detail), /cross-site/i);
  assert.equal(await isDisabled(t, victim.id), false);
  assert.equal(t.kdf.calls, kdfBefore, "refused before authentication");
  const rows = await auditRows(t.deps, "authz_fail");
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.path, `/users/${victim.id}/disable`);
});

Deno.test("each browser signal of a cross-site state change is refused on its own", async () => {
  const { t, admin, victim } = await setup();
  await using _ = t;
  const cases: [string, Record<string, string>, number][] = [
    ["Sec-Fetch-Site: cross-site without Origin", { "Sec-Fetch-Site": "cross-site" }, 403],
    ["Sec-Fetch-Site: same-site from a sibling origin", {
      "Sec-Fetch-Site": "same-site",
      Origin: "https://sibling.localhost",
    }, 403],
    ["a foreign Origin without fetch metadata (fetch no-cors, no body)", { Origin: EVIL }, 403],
    ["Origin: null (a sandboxed frame)", { Origin: "null" }, 403],
    ["an old browser's form: no Origin, text/plain", { "Content-Type": "text/plain" }, 415],
    ["an old browser's form: no Origin, urlencoded", { "Content-Type": "application/x-www-form-urlencoded" }, 415],
    ["an old browser's form: no Origin, multipart", { "Content-Type": "multipart/form-data; boundary=x" }, 415],
  ];
  for (const [label, headers, status] of cases) {
    for (const action of ["disable", "enable"]) {
      const res = await t.request(`/users/${victim.id}/${action}`, {
        method: "POST",
        headers: { Authorization: admin.basic, ...headers },
      });
      assert.equal(res.status, status, `${label} → ${action}`);
      await problem(res);
    }
    assert.equal(await isDisabled(t, victim.id), false, label);
  }
  // Login and logout: no token is minted or revoked by a cross-site request.
  const login = await t.request("/auth/login", {
    method: "POST",
    headers: { Authorization: victim.basic, Origin: EVIL, "Sec-Fetch-Site": "cross-site" },
  });
  assert.equal(login.status, 403);
  await login.body?.cancel();
  assert.equal((await auditRows(t.deps, "authn_token_created")).length, 0);
});

Deno.test("programs, the API's own origin and configured origins still act", async () => {
  const { t, admin, victim } = await setup({ APP_CORS_ORIGINS: "https://app.example" });
  await using _ = t;
  const post = (action: string, headers: Record<string, string>) =>
    t.request(`/users/${victim.id}/${action}`, { method: "POST", headers: { Authorization: admin.basic, ...headers } });
  // curl: no Origin, no fetch metadata, no Content-Type.
  assert.equal((await post("disable", {})).status, 200);
  assert.equal((await post("enable", { "Content-Type": "application/json" })).status, 200);
  // The API's own origin (a page it serves), same-origin fetch metadata.
  assert.equal((await post("disable", { Origin: "https://localhost", "Sec-Fetch-Site": "same-origin" })).status, 200);
  // A configured browser application, cross-site.
  assert.equal((await post("enable", { Origin: "https://app.example", "Sec-Fetch-Site": "cross-site" })).status, 200);
  assert.equal(await isDisabled(t, victim.id), false);
  // Safe methods are never refused: CORS and CORP keep the answer from a foreign page.
  const read = await t.request(`/users/${victim.id}`, {
    headers: { Authorization: admin.basic, Origin: EVIL, "Sec-Fetch-Site": "cross-site" },
  });
  assert.equal(read.status, 200);
  await read.body?.cancel();
});

Deno.test("a browser's 401 carries no Basic challenge, so it never shows a password dialog or caches one", async () => {
  const { t } = await setup();
  await using _ = t;
  const browser = await t.request("/users", { headers: { "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "none" } });
  assert.equal(browser.status, 401);
  assert.equal(browser.headers.get("WWW-Authenticate"), 'Bearer realm="secure-api"');
  await problem(browser);
  const program = await t.request("/users");
  assert.equal(program.status, 401);
  assert.equal(program.headers.get("WWW-Authenticate"), 'Basic realm="secure-api", charset="UTF-8"');
  await problem(program);
});
