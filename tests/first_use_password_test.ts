/**
 * No permanent generated passwords, no default administrator (SECURITY.md
 * "Authentication"; ASVS 5.0 6.3.2, 6.4.1, 6.4.3): a password someone other
 * than its user set — the bootstrap admin's generated one, an operator's
 * create-user or reset-password — opens only `GET /auth/me` and
 * `PUT /auth/password` until the user replaces it.
 */
import assert from "node:assert/strict";
import { auditRows, basicAuth, createTestApp, problem, type TestApp } from "./helpers.ts";

const REQUIRED = "urn:secure-api:problem:password-change-required";

async function operatorMade(t: TestApp, username: string, roles: string[]): Promise<{ id: number; password: string }> {
  const password = `operator-made-${crypto.randomUUID()}`;
  const user = await t.deps.services.accounts.create(username, password, { client: "cli" }, roles, {
    mustChangePassword: true,
  });
  return { id: user.id, password };
}

Deno.test("a password the operator set opens only /auth/me and the password change; every other route is 403 and runs nothing", async () => {
  await using t = await createTestApp();
  const { id, password } = await operatorMade(t, "olga", ["admin"]);
  const auth = { Authorization: basicAuth("olga", password) };
  const products = (await t.deps.store.products.list({ after: 0, limit: 10 })).length;
  const refused: [string, string, unknown?][] = [
    ["GET", "/products"],
    ["GET", "/users"],
    ["POST", "/products", { name: "x", priceCents: 1, stock: 1 }],
    ["POST", "/auth/login"],
    ["GET", `/users/${id}`],
    ["GET", "/audit/verify"],
  ];
  for (const [method, path, body] of refused) {
    const res = body === undefined
      ? await t.request(path, { method, headers: auth })
      : await t.json(method, path, body, { headers: auth });
    assert.equal(res.status, 403, `${method} ${path}`);
    const p = await problem(res);
    assert.equal(p.type, REQUIRED);
    assert.match(String(p.detail), /PUT \/auth\/password/);
  }
  assert.equal((await t.deps.store.products.list({ after: 0, limit: 10 })).length, products, "nothing created");
  assert.equal((await auditRows(t.deps, "authn_token_created")).length, 0, "no token minted");
  assert.equal((await auditRows(t.deps, "authz_fail")).length, refused.length);

  const me = await t.request("/auth/me", { headers: auth });
  assert.equal(me.status, 200);
  await me.body?.cancel();
  const changed = await t.json("PUT", "/auth/password", {
    currentPassword: password,
    newPassword: "freshly chosen words of her own",
  }, { headers: auth });
  assert.equal(changed.status, 204);
  assert.equal((await t.deps.store.users.findById(id))!.mustChangePassword, false);
  const after = await t.request("/users", {
    headers: { Authorization: basicAuth("olga", "freshly chosen words of her own") },
  });
  assert.equal(after.status, 200, "the user's own password opens everything their roles allow");
  await after.body?.cancel();
});

Deno.test("registration and a user's own change never set the flag; an operator's reset sets it again", async () => {
  await using t = await createTestApp();
  const registered = await t.json("POST", "/auth/register", {
    username: "rita",
    password: "a choice of her own making",
  });
  assert.equal(registered.status, 201);
  const { id } = await registered.json();
  assert.equal((await t.deps.store.users.findById(id))!.mustChangePassword, false);
  const ok = await t.request("/products", {
    headers: { Authorization: basicAuth("rita", "a choice of her own making") },
  });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();

  await t.deps.services.accounts.resetPassword("rita", "the operator's temporary one", { client: "cli" });
  assert.equal((await t.deps.store.users.findById(id))!.mustChangePassword, true);
  const res = await t.request("/products", {
    headers: { Authorization: basicAuth("rita", "the operator's temporary one") },
  });
  assert.equal(res.status, 403, "the next request sees the flag (no stale cached principal)");
  assert.equal((await problem(res)).type, REQUIRED);
});

Deno.test("the bootstrap admin has no default name and its generated password must be changed; a configured one need not", async () => {
  await using t = await createTestApp();
  const made = await t.deps.services.accounts.bootstrapAdmin(null, null, { client: "local" });
  assert.ok(made);
  assert.match(made.username, /^admin-[a-z2-7]{10}$/);
  assert.ok(made.generatedPassword && made.generatedPassword.length >= 22);
  const stored = await t.deps.store.users.findByUsername(made.username);
  assert.equal(stored!.mustChangePassword, true);
  assert.equal(await t.deps.store.users.findByUsername("admin"), undefined, "no account named admin");
  const refused = await t.request("/users", {
    headers: { Authorization: basicAuth(made.username, made.generatedPassword) },
  });
  assert.equal(refused.status, 403);
  await refused.body?.cancel();

  await using configured = await createTestApp();
  const chosen = await configured.deps.services.accounts.bootstrapAdmin("ops-lead", "the operator's own admin words", {
    client: "local",
  });
  assert.deepEqual(chosen, { username: "ops-lead", generatedPassword: null });
  assert.equal((await configured.deps.store.users.findByUsername("ops-lead"))!.mustChangePassword, false);
  assert.equal(await configured.deps.services.accounts.bootstrapAdmin(null, null, { client: "local" }), null);
});
