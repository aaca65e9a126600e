import assert from "node:assert/strict";
import { auditRows, createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";

const auth = (user: TestUser) => ({ headers: { Authorization: user.basic } });

async function admins(t: TestApp) {
  return {
    admin: await t.user("root-admin", ["admin"]),
    viewer: await t.user("vera", ["viewer"]),
  };
}

function rolesOf(t: TestApp, id: number): string[] {
  return t.deps.repos.users.rolesOf(id);
}

Deno.test("GET /users lists users without any secret field", async () => {
  await using t = await createTestApp();
  const { admin } = await admins(t);
  const res = await t.request("/users", auth(admin));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Cache-Control"), "no-store");
  const text = await res.text();
  assert.doesNotMatch(text, /pbkdf2|password|hash|salt/i);
  const body = JSON.parse(text);
  assert.deepEqual(body.items.map((u: { username: string }) => u.username), ["root-admin", "vera"]);
  assert.deepEqual(Object.keys(body.items[0]).sort(), [
    "createdAt",
    "disabled",
    "id",
    "roles",
    "updatedAt",
    "username",
  ]);
  assert.deepEqual(body.items[0].roles, ["admin"]);
  assert.equal(body.nextCursor, null);
});

Deno.test("GET /users pages with cursors: every user exactly once, in id order, even across deletions", async () => {
  await using t = await createTestApp();
  const { admin } = await admins(t);
  for (let i = 0; i < 9; i++) await t.user(`member${i}`);
  const expected = t.deps.repos.users.list(0, 1000).map((u) => u.id);
  assert.equal(expected.length, 11);

  const seen: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor ? `?limit=3&cursor=${encodeURIComponent(cursor)}` : "?limit=3";
    const res = await t.request(`/users${query}`, auth(admin));
    assert.equal(res.status, 200);
    const body = await res.json() as { items: { id: number }[]; nextCursor: string | null };
    assert.ok(body.items.length <= 3);
    seen.push(...body.items.map((u) => u.id));
    cursor = body.nextCursor;
    pages++;
    // Deleting a user already listed must not shift later pages (keyset paging, not offsets).
    if (pages === 2) t.deps.services.accounts.delete(null, seen[1]!, { client: "test" });
  } while (cursor !== null);
  assert.equal(pages, 4);
  assert.deepEqual(seen, expected);
  assert.equal(new Set(seen).size, seen.length);
});

Deno.test("GET /users refuses a forged cursor, a bad limit and unknown parameters with 422", async () => {
  await using t = await createTestApp();
  const { admin } = await admins(t);
  for (
    const query of [
      "?cursor=eyJhZnRlciI6LTF9",
      "?cursor=not-a-cursor",
      "?limit=0",
      "?limit=101",
      "?limit=x",
      "?sort=id",
    ]
  ) {
    const res = await t.request(`/users${query}`, auth(admin));
    assert.equal(res.status, 422, query);
    const body = await problem(res);
    assert.equal(body.type, "urn:secure-api:problem:validation-failed");
    assert.ok(Array.isArray(body.errors), query);
  }
  assert.equal(auditRows(t.deps, "input_validation_fail").length, 6);
});

Deno.test("GET /users needs users:read: 401 anonymous with a challenge, 403 for a viewer", async () => {
  await using t = await createTestApp();
  const { viewer } = await admins(t);
  const anonymous = await t.request("/users");
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get("WWW-Authenticate") ?? "", /^Basic realm="secure-api"/);
  await problem(anonymous);
  const forbidden = await t.request("/users", auth(viewer));
  assert.equal(forbidden.status, 403);
  assert.match(String((await problem(forbidden)).detail), /users:read/);
  const [fail] = auditRows(t.deps, "authz_fail");
  assert.equal(fail?.actor, viewer.id);
  assert.equal(fail?.path, "/users");
});

Deno.test("GET /users/:id returns the user, 404 for a missing or malformed id", async () => {
  await using t = await createTestApp();
  const { admin, viewer } = await admins(t);
  const res = await t.request(`/users/${viewer.id}`, auth(admin));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.username, "vera");
  assert.deepEqual(body.roles, ["viewer"]);
  assert.equal(body.disabled, false);
  for (const id of ["999", "0", "01", "abc", "1e3", "-1", "99999999999999999999"]) {
    const missing = await t.request(`/users/${id}`, auth(admin));
    assert.equal(missing.status, 404, id);
    assert.equal((await problem(missing)).type, "urn:secure-api:problem:not-found");
  }
  const forbidden = await t.request(`/users/${admin.id}`, auth(viewer));
  assert.equal(forbidden.status, 403);
  await problem(forbidden);
});

Deno.test("PUT /users/:id/roles replaces the roles and records authz_change", async () => {
  await using t = await createTestApp();
  const { admin, viewer } = await admins(t);
  const res = await t.json("PUT", `/users/${viewer.id}/roles`, { roles: ["editor", "viewer", "editor"] }, auth(admin));
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).roles, ["editor", "viewer"]);
  assert.deepEqual(rolesOf(t, viewer.id), ["editor", "viewer"]);
  const [row] = auditRows(t.deps, "authz_change");
  assert.equal(row?.actor, admin.id);
  assert.equal(row?.target, `user:${viewer.id}`);
  assert.equal(row?.method, "PUT");
  assert.equal(row?.path, `/users/${viewer.id}/roles`);
  assert.deepEqual(JSON.parse(row!.detail), { roles: { from: ["viewer"], to: ["editor", "viewer"] } });
});

Deno.test("PUT /users/:id/roles refuses bad input with 415 and 422, leaving the roles unchanged", async () => {
  await using t = await createTestApp();
  const { admin, viewer } = await admins(t);
  const cases: [unknown, number, string][] = [
    [{ roles: ["nosuchrole"] }, 422, "roles"],
    [{ roles: ["Admin"] }, 422, "roles.0"],
    [{ roles: "admin" }, 422, "roles"],
    [{ roles: ["viewer"], disabled: true }, 422, "disabled"],
    [{}, 422, "roles"],
  ];
  for (const [body, status, path] of cases) {
    const res = await t.json("PUT", `/users/${viewer.id}/roles`, body, auth(admin));
    assert.equal(res.status, status, JSON.stringify(body));
    const errors = (await problem(res)).errors as { path: string }[];
    assert.ok(errors.some((e) => e.path === path), JSON.stringify(errors));
  }
  const plain = await t.request(`/users/${viewer.id}/roles`, {
    method: "PUT",
    body: JSON.stringify({ roles: ["admin"] }),
    headers: { Authorization: admin.basic, "Content-Type": "text/plain" },
  });
  assert.equal(plain.status, 415);
  await problem(plain);
  assert.deepEqual(rolesOf(t, viewer.id), ["viewer"]);
  assert.equal(auditRows(t.deps, "authz_change").length, 0);
});

Deno.test("PUT /users/:id/roles answers 404 for a missing user and 403 for a viewer", async () => {
  await using t = await createTestApp();
  const { admin, viewer } = await admins(t);
  const missing = await t.json("PUT", "/users/999/roles", { roles: ["viewer"] }, auth(admin));
  assert.equal(missing.status, 404);
  await problem(missing);
  const forbidden = await t.json("PUT", `/users/${viewer.id}/roles`, { roles: ["admin"] }, auth(viewer));
  assert.equal(forbidden.status, 403);
  await problem(forbidden);
  assert.deepEqual(rolesOf(t, viewer.id), ["viewer"]);
});

Deno.test("PUT /users/:id/roles: nobody changes their own roles, not even an admin", async () => {
  await using t = await createTestApp();
  const { admin } = await admins(t);
  await t.user("second-admin", ["admin"]);
  const res = await t.json("PUT", `/users/${admin.id}/roles`, { roles: ["viewer"] }, auth(admin));
  assert.equal(res.status, 403);
  assert.match(String((await problem(res)).detail), /your own roles/);
  assert.deepEqual(rolesOf(t, admin.id), ["admin"]);
  assert.equal(auditRows(t.deps, "authz_fail").length, 1);
});

Deno.test("the last active admin cannot be demoted (409), but can be once another admin exists", async () => {
  await using t = await createTestApp();
  const { admin } = await admins(t);
  const other = await t.user("other-admin", ["editor"]);
  const refused = await t.json("PUT", `/users/${admin.id}/roles`, { roles: ["viewer"] }, auth(other));
  assert.equal(refused.status, 403, "an editor cannot touch an admin at all");
  await refused.body?.cancel();

  // A second admin who is disabled does not count.
  t.deps.services.accounts.setRoles(null, other.id, ["admin"], { client: "test" });
  t.deps.services.accounts.setDisabled(null, other.id, true, { client: "test" });
  const third = await t.user("third-admin", ["admin"]);
  const ok = await t.json("PUT", `/users/${admin.id}/roles`, { roles: ["viewer"] }, auth(third));
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.deepEqual(rolesOf(t, admin.id), ["viewer"]);

  // Now `third` is the last active admin; `other` is disabled and cannot act. The operator cannot demote it either.
  const conflict = () => t.deps.services.accounts.setRoles(null, third.id, ["editor"], { client: "cli" });
  assert.throws(conflict, { kind: "conflict", message: "You cannot demote the last active admin." });
  assert.deepEqual(rolesOf(t, third.id), ["admin"]);
});

Deno.test("demoting the last active admin through the API is a 409 problem", async () => {
  await using t = await createTestApp();
  const admin = await t.user("only-admin", ["admin"]);
  // A user who holds every permission through a custom role, but not the admin role.
  t.deps.services.roles.create(null, "everything", {
    description: "",
    permissions: [...t.deps.repos.roles.get("admin")!.permissions],
  }, {});
  const peer = await t.user("peer", ["everything"]);
  const res = await t.json("PUT", `/users/${admin.id}/roles`, { roles: ["everything"] }, auth(peer));
  assert.equal(res.status, 409);
  const body = await problem(res);
  assert.equal(body.type, "urn:secure-api:problem:conflict");
  assert.match(String(body.detail), /last active admin/);
  assert.deepEqual(rolesOf(t, admin.id), ["admin"]);
});

Deno.test("POST /users/:id/disable and /enable flip the flag and record user_updated", async () => {
  await using t = await createTestApp();
  const { admin, viewer } = await admins(t);
  const disabled = await t.request(`/users/${viewer.id}/disable`, { method: "POST", ...auth(admin) });
  assert.equal(disabled.status, 200);
  assert.equal((await disabled.json()).disabled, true);
  assert.equal(t.deps.repos.users.findById(viewer.id)?.disabled, true);
  const enabled = await t.request(`/users/${viewer.id}/enable`, { method: "POST", ...auth(admin) });
  assert.equal(enabled.status, 200);
  assert.equal((await enabled.json()).disabled, false);
  assert.equal(t.deps.repos.users.findById(viewer.id)?.disabled, false);
  const rows = auditRows(t.deps, "user_updated");
  assert.deepEqual(rows.map((r) => [r.actor, r.target, r.path, JSON.parse(r.detail).disabled]), [
    [admin.id, `user:${viewer.id}`, `/users/${viewer.id}/disable`, true],
    [admin.id, `user:${viewer.id}`, `/users/${viewer.id}/enable`, false],
  ]);
});

Deno.test("POST /users/:id/disable: 404 missing, 403 self, 409 last admin, 200 with another admin", async () => {
  await using t = await createTestApp();
  const admin = await t.user("boss", ["admin"]);
  const missing = await t.request("/users/999/disable", { method: "POST", ...auth(admin) });
  assert.equal(missing.status, 404);
  await problem(missing);
  const self = await t.request(`/users/${admin.id}/disable`, { method: "POST", ...auth(admin) });
  assert.equal(self.status, 403);
  assert.match(String((await problem(self)).detail), /your own account/);

  t.deps.services.roles.create(null, "everything", {
    description: "",
    permissions: [...t.deps.repos.roles.get("admin")!.permissions],
  }, {});
  const peer = await t.user("peer", ["everything"]);
  const last = await t.request(`/users/${admin.id}/disable`, { method: "POST", ...auth(peer) });
  assert.equal(last.status, 409);
  assert.match(String((await problem(last)).detail), /cannot disable the last active admin/);
  assert.equal(t.deps.repos.users.findById(admin.id)?.disabled, false);

  await t.user("deputy", ["admin"]);
  const ok = await t.request(`/users/${admin.id}/disable`, { method: "POST", ...auth(peer) });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.equal(t.deps.repos.users.findById(admin.id)?.disabled, true);
});

Deno.test("DELETE /users/:id removes the user and records user_deleted", async () => {
  await using t = await createTestApp();
  const { admin, viewer } = await admins(t);
  const res = await t.request(`/users/${viewer.id}`, { method: "DELETE", ...auth(admin) });
  assert.equal(res.status, 204);
  assert.equal(await res.text(), "");
  assert.equal(t.deps.repos.users.findById(viewer.id), undefined);
  assert.deepEqual(rolesOf(t, viewer.id), []);
  const gone = await t.request(`/users/${viewer.id}`, auth(admin));
  assert.equal(gone.status, 404);
  await problem(gone);
  const again = await t.request(`/users/${viewer.id}`, { method: "DELETE", ...auth(admin) });
  assert.equal(again.status, 404);
  await problem(again);
  const [row] = auditRows(t.deps, "user_deleted");
  assert.equal(row?.actor, admin.id);
  assert.equal(row?.target, `user:${viewer.id}`);
  assert.equal(row?.status, 204);
  assert.deepEqual(JSON.parse(row!.detail), { username: "vera", roles: ["viewer"], tokensRevoked: 0 });
  assert.equal(t.deps.audit.verify().ok, true);
});

Deno.test("DELETE /users/:id: 403 self, 409 last admin, 204 once another admin exists", async () => {
  await using t = await createTestApp();
  const admin = await t.user("boss", ["admin"]);
  const self = await t.request(`/users/${admin.id}`, { method: "DELETE", ...auth(admin) });
  assert.equal(self.status, 403);
  await problem(self);
  t.deps.services.roles.create(null, "everything", {
    description: "",
    permissions: [...t.deps.repos.roles.get("admin")!.permissions],
  }, {});
  const peer = await t.user("peer", ["everything"]);
  const last = await t.request(`/users/${admin.id}`, { method: "DELETE", ...auth(peer) });
  assert.equal(last.status, 409);
  assert.match(String((await problem(last)).detail), /cannot delete the last active admin/);
  assert.ok(t.deps.repos.users.findById(admin.id));
  await t.user("deputy", ["admin"]);
  const ok = await t.request(`/users/${admin.id}`, { method: "DELETE", ...auth(peer) });
  assert.equal(ok.status, 204);
  assert.equal(t.deps.repos.users.findById(admin.id), undefined);
});

Deno.test("a users:manage holder cannot disable, delete or re-role a full admin (403)", async () => {
  await using t = await createTestApp();
  const { admin, viewer } = await admins(t);
  t.deps.services.roles.create(null, "helpdesk", {
    description: "",
    permissions: ["users:read", "users:manage", "products:read"],
  }, {});
  const desk = await t.user("desk", ["helpdesk"]);
  for (
    const [method, path, body] of [
      ["POST", `/users/${admin.id}/disable`, undefined],
      ["DELETE", `/users/${admin.id}`, undefined],
      ["PUT", `/users/${admin.id}/roles`, { roles: ["viewer"] }],
    ] as const
  ) {
    const res = body ? await t.json(method, path, body, auth(desk)) : await t.request(path, { method, ...auth(desk) });
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.match(String((await problem(res)).detail), /holds permissions you do not hold/);
  }
  assert.equal(t.deps.repos.users.findById(admin.id)?.disabled, false);
  assert.deepEqual(rolesOf(t, admin.id), ["admin"]);
  // The same holder may manage a user who holds nothing beyond their own permissions.
  const ok = await t.request(`/users/${viewer.id}/disable`, { method: "POST", ...auth(desk) });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
});

Deno.test("a wrong method on a user route is a 405 problem with Allow", async () => {
  await using t = await createTestApp();
  const { admin, viewer } = await admins(t);
  const res = await t.json("PATCH", `/users/${viewer.id}`, { disabled: true }, auth(admin));
  assert.equal(res.status, 405);
  assert.deepEqual(res.headers.get("Allow")?.split(", ").sort(), ["DELETE", "GET", "HEAD"]);
  await problem(res);
  assert.equal(t.deps.repos.users.findById(viewer.id)?.disabled, false);
});
