/**
 * End to end: `deno task start` — the real task, its permission set, TLS —
 * in a fresh project copy on a free port (never 8443: the tests run beside a
 * developer's server), driven by a real HTTPS client through
 * register → role grant → create, read, update, delete.
 */
import assert from "node:assert/strict";
import { basicAuth } from "./helpers.ts";
import { DEFAULT_GUARD_PORT, DEFAULT_PORT, jsonLines, startServer } from "./e2e_helpers.ts";

/**
 * Holds a default port for the length of a test, as a developer's running
 * `deno task start` would; if something already holds it, that is the same.
 */
function occupy(port: number): Deno.Listener | null {
  try {
    return Deno.listen({ hostname: "127.0.0.1", port });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return null;
    throw error;
  }
}

Deno.test("a real server: first start, register, admin grants editor, CRUD over HTTPS, restart", async () => {
  // The tests run beside `deno task start`: with 8443 and the guard's 8444 taken, the end-to-end server still
  // starts (on free ports).
  const held = [occupy(DEFAULT_PORT), occupy(DEFAULT_GUARD_PORT)];
  await using _release = { [Symbol.asyncDispose]: () => Promise.resolve(held.forEach((l) => l?.close())) };
  const server = await startServer();
  assert.notEqual(server.port, DEFAULT_PORT);
  assert.ok(server.guardPort !== null && server.guardPort !== DEFAULT_GUARD_PORT);
  const { origin, client, dir } = server;
  const call = async (method: string, path: string, authorization?: string, body?: unknown, extra = {}) => {
    const headers: Record<string, string> = { ...extra };
    if (authorization) headers.Authorization = authorization;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`${origin}${path}`, {
      method,
      headers,
      client,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { response, body: text ? JSON.parse(text) : null };
  };
  let stopped = false;
  try {
    // First start: database, migrations, certificate (key private), one-time admin name and password.
    assert.ok((await Deno.stat(`${dir}/data/app.db`)).isFile);
    assert.equal((await Deno.stat(`${dir}/certs/dev-key.pem`)).mode! & 0o777, 0o600);
    // No default administrator (ASVS 5.0 6.3.2): a generated name and password, printed once.
    assert.match(server.adminUsername ?? "", /^admin-[a-z2-7]{10}$/);
    assert.ok(server.adminPassword!.length >= 22, "≥ 128-bit generated password");
    const generated = basicAuth(server.adminUsername!, server.adminPassword!);
    // The generated password opens nothing but the change of itself (ASVS 5.0 6.4.1).
    const early = await call("GET", "/users", generated);
    assert.equal(early.response.status, 403);
    assert.equal(early.body.type, "urn:secure-api:problem:password-change-required");
    const adminPassword = "a new admin passphrase for the e2e run";
    const changed = await call("PUT", "/auth/password", generated, {
      currentPassword: server.adminPassword,
      newPassword: adminPassword,
    });
    assert.equal(changed.response.status, 204);
    const admin = basicAuth(server.adminUsername!, adminPassword);

    const registered = await call("POST", "/auth/register", undefined, {
      username: "erin",
      password: "a kettle of fish, twice",
    });
    assert.equal(registered.response.status, 201);
    assert.equal(registered.response.headers.get("strict-transport-security"), "max-age=63072000; includeSubDomains");
    const erin = basicAuth("erin", "a kettle of fish, twice");

    const denied = await call("POST", "/products", erin, { name: "Kettle", priceCents: 3500, stock: 2 });
    assert.equal(denied.response.status, 403);
    assert.equal(denied.response.headers.get("content-type"), "application/problem+json");

    const granted = await call("PUT", `/users/${registered.body.id}/roles`, admin, { roles: ["editor"] });
    assert.equal(granted.response.status, 200);
    assert.deepEqual(granted.body.roles, ["editor"]);

    const created = await call("POST", "/products", erin, { name: "Kettle", priceCents: 3500, stock: 2 });
    assert.equal(created.response.status, 201);
    const id = created.body.id;
    const read = await call("GET", `/products/${id}`, erin);
    assert.equal(read.response.status, 200);
    assert.equal(read.response.headers.get("etag"), '"1"');
    const updated = await call("PUT", `/products/${id}`, erin, { name: "Kettle", priceCents: 3200, stock: 1 }, {
      "If-Match": '"1"',
    });
    assert.equal(updated.response.status, 200);
    assert.equal(updated.body.priceCents, 3200);
    const stale = await call("PUT", `/products/${id}`, erin, { name: "Kettle", priceCents: 1, stock: 1 }, {
      "If-Match": '"1"',
    });
    assert.equal(stale.response.status, 412);
    const token = (await call("POST", "/auth/login", erin)).body.token;
    const listed = await call("GET", "/products?q=kett", `Bearer ${token}`);
    assert.deepEqual(listed.body.items.map((p: { id: number }) => p.id), [id]);
    assert.equal((await call("DELETE", `/products/${id}`, erin)).response.status, 204);
    assert.equal((await call("GET", `/products/${id}`, erin)).response.status, 404);

    const verify = await call("GET", "/audit/verify", admin);
    assert.equal(verify.body.ok, true);

    assert.equal(await server.stop(), 0);
    stopped = true;
    const firstLogs = jsonLines(server.stdout);
    assert.ok(firstLogs.some((l) => String(l.message).startsWith("applied migrations")));

    // Second start on the same data: nothing reapplied, no new admin password, data intact.
    const again = await startServer({ dir, port: server.port, guardPort: server.guardPort! });
    try {
      assert.equal(again.adminPassword, null);
      assert.ok(!jsonLines(again.stdout).some((l) => String(l.message).startsWith("applied migrations")));
      const me = await fetch(`${again.origin}/auth/me`, { headers: { Authorization: erin }, client: again.client });
      assert.equal(me.status, 200);
      assert.deepEqual((await me.json()).roles, ["editor"]);
    } finally {
      assert.equal(await again.stop(), 0);
    }
  } finally {
    if (!stopped) await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
