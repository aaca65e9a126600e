/**
 * What a request can and cannot do, beyond what each route's own tests show:
 * credentials are read from the `Authorization` header only, never from the
 * URL (ASVS 5.0 14.2.1); a read changes nothing (3.5.3: only unsafe methods
 * act, so a cross-site image or link cannot); and a password does not expire
 * with time (6.2.10: no periodic rotation); TRACE is never served (13.4.4).
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "./helpers.ts";
import { routeInventory } from "./route_inventory.ts";

async function login(t: TestApp, basic: string): Promise<string> {
  const response = await t.request("/auth/login", { method: "POST", headers: { Authorization: basic } });
  assert.equal(response.status, 200);
  return ((await response.json()) as { token: string }).token;
}

/** The tables that hold application state (not the audit log or token bookkeeping), each read whole. */
const STATE = [
  "SELECT * FROM users ORDER BY id",
  "SELECT * FROM roles ORDER BY name",
  "SELECT * FROM permissions ORDER BY name",
  "SELECT * FROM role_permissions ORDER BY role, permission",
  "SELECT * FROM user_roles ORDER BY user_id, role",
  "SELECT * FROM products ORDER BY id",
];

function snapshot(t: TestApp): string {
  return JSON.stringify(STATE.map((sql) => t.db.prepare(sql).all()));
}

Deno.test("credentials in the URL are ignored: a token or password in the query string authenticates nobody", async () => {
  const t = await createTestApp();
  const alice = await t.user("alice");
  const token = await login(t, alice.basic);
  assert.equal((await t.request("/auth/me", { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  for (
    const query of [
      `access_token=${token}`,
      `token=${token}`,
      `bearer=${token}`,
      `authorization=${encodeURIComponent(`Bearer ${token}`)}`,
      `username=alice&password=${encodeURIComponent(alice.password)}`,
    ]
  ) {
    const response = await t.request(`/auth/me?${query}`);
    assert.equal(response.status, 401, query.split("=")[0]);
    await response.body?.cancel();
  }
  const inUserinfo = await t.app.request(`https://alice:${encodeURIComponent(alice.password)}@localhost/auth/me`);
  assert.equal(inUserinfo.status, 401, "credentials in the URL's userinfo");
  await inUserinfo.body?.cancel();
});

Deno.test("GET and HEAD on every route change no application state, even for an administrator", async () => {
  const t = await createTestApp();
  const admin = await t.user("root", ["admin"]);
  const editor = await t.user("edith", ["editor"]);
  const created = await t.json("POST", "/products", { name: "kettle", priceCents: 1, stock: 1 }, {
    headers: { Authorization: editor.basic },
  });
  assert.equal(created.status, 201);
  const product = (await created.json()) as { id: number };
  const values: Record<string, string> = { id: String(product.id), name: "editor" };
  const reads = routeInventory(t.app).filter((r) => r.method === "GET");
  assert.ok(reads.length >= 10, `found ${reads.length} GET routes`);
  // Prime the credential cache so the reads below are pure reads, not first logins.
  assert.equal((await t.request("/auth/me", { headers: { Authorization: admin.basic } })).status, 200);
  const before = snapshot(t);
  for (const route of reads) {
    const path = route.path.replace(/:(\w+)/g, (_, name: string) => values[name] ?? "1");
    for (const method of ["GET", "HEAD"]) {
      const response = await t.request(path, { method, headers: { Authorization: admin.basic } });
      assert.ok(response.status < 500, `${method} ${path}: ${response.status}`);
      await response.body?.cancel();
    }
  }
  assert.equal(snapshot(t), before);
});

Deno.test("a password does not expire: it still works after two years without use", async () => {
  const t = await createTestApp();
  const alice = await t.user("alice");
  t.clock.advance(2 * 366 * 86_400_000);
  const response = await t.request("/auth/me", { headers: { Authorization: alice.basic } });
  assert.equal(response.status, 200);
  await response.body?.cancel();
});

/** Sends one raw HTTP/1.1 request over TCP (fetch refuses TRACE) and returns the status line. */
async function rawStatus(port: number, method: string, path: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(`${method} ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`),
    );
    let text = "";
    const buffer = new Uint8Array(4096);
    while (!text.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text.split("\r\n")[0]!;
  } finally {
    conn.close();
  }
}

Deno.test("TRACE and TRACK are never served: 405 on a known path, 404 elsewhere", async () => {
  const t = await createTestApp();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request, info) => t.app.fetch(request, info),
  );
  try {
    for (const method of ["TRACE", "TRACK"]) {
      assert.equal(await rawStatus(server.addr.port, method, "/health"), "HTTP/1.1 405 Method Not Allowed", method);
      assert.equal(await rawStatus(server.addr.port, method, "/no/such/path"), "HTTP/1.1 404 Not Found", method);
    }
  } finally {
    await server.shutdown();
  }
});
