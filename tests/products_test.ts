/**
 * Products through HTTP (OWASP API1:2023 object level, API3:2023 property level; README "Endpoints").
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";

const as = (user: TestUser, headers: Record<string, string> = {}) => ({
  headers: { Authorization: user.basic, ...headers },
});

async function create(t: TestApp, user: TestUser, body: Record<string, unknown> = {}) {
  const response = await t.json(
    "POST",
    "/products",
    { name: "Desk lamp", priceCents: 2599, stock: 4, ...body },
    as(user),
  );
  assert.equal(response.status, 201, await response.clone().text());
  return await response.json() as Record<string, unknown> & { id: number; version: number };
}

function productRow(t: TestApp, id: number) {
  return t.db.prepare("SELECT * FROM products WHERE id = :id").get({ id });
}

Deno.test("POST /products creates a product owned by the caller: 201, Location, ETag, audit row", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const response = await t.json("POST", "/products", {
    name: "Desk lamp",
    description: "Warm light",
    priceCents: 2599,
    stock: 4,
  }, as(edith));
  assert.equal(response.status, 201);
  const product = await response.json();
  assert.equal(response.headers.get("Location"), `/products/${product.id}`);
  assert.equal(response.headers.get("ETag"), '"1"');
  assert.deepEqual(Object.keys(product).sort(), [
    "createdAt",
    "description",
    "id",
    "name",
    "ownerId",
    "priceCents",
    "stock",
    "updatedAt",
    "version",
  ]);
  assert.equal(product.ownerId, edith.id);
  assert.equal(product.priceCents, 2599);
  const [row] = auditRows(t.deps, "product_created");
  assert.equal(row!.actor, edith.id);
  assert.equal(row!.target, `product:${product.id}`);
  assert.equal(row!.requestId, response.headers.get("X-Request-Id"));
});

Deno.test("GET /products/:id returns the product with its ETag; If-None-Match gives 304", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const viewer = await t.user("victor");
  const product = await create(t, edith);
  const response = await t.request(`/products/${product.id}`, as(viewer));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("ETag"), '"1"');
  assert.deepEqual(await response.json(), product);
  const cached = await t.request(`/products/${product.id}`, as(viewer, { "If-None-Match": '"1"' }));
  assert.equal(cached.status, 304);
  assert.equal(cached.headers.get("Cache-Control"), "no-store");
});

Deno.test("GET /products/:id is 404 for a missing or malformed id", async () => {
  await using t = await createTestApp();
  const viewer = await t.user("victor");
  for (const id of ["999", "0", "-1", "abc", "1.5", "1e3", "99999999999999999999"]) {
    const response = await t.request(`/products/${id}`, as(viewer));
    assert.equal(response.status, 404, id);
    await problem(response);
  }
});

Deno.test("GET /products pages with an opaque cursor: every product once, in order", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const ids: number[] = [];
  for (let i = 0; i < 7; i++) ids.push((await create(t, edith, { name: `Item ${i}` })).id);
  const seen: number[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `?limit=3&cursor=${cursor}` : "?limit=3";
    const response = await t.request(`/products${query}`, as(edith));
    assert.equal(response.status, 200);
    const page = await response.json() as { items: { id: number }[]; nextCursor: string | null };
    assert.ok(page.items.length <= 3);
    seen.push(...page.items.map((p) => p.id));
    cursor = page.nextCursor;
  } while (cursor);
  assert.deepEqual(seen, ids);
});

Deno.test("GET /products defaults to 20 items and refuses limits outside 1-100 and foreign cursors", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  for (let i = 0; i < 21; i++) await create(t, edith, { name: `Item ${i}` });
  const page = await (await t.request("/products", as(edith))).json();
  assert.equal(page.items.length, 20);
  assert.ok(page.nextCursor);
  for (
    const query of [
      "limit=0",
      "limit=101",
      "limit=abc",
      "limit=-1",
      "cursor=not-ours",
      "cursor=eyJhZnRlciI6LTF9",
      "x=1",
    ]
  ) {
    const response = await t.request(`/products?${query}`, as(edith));
    assert.equal(response.status, 422, query);
    await problem(response);
  }
});

Deno.test("GET /products?q= searches names literally (LIKE wildcards are escaped)", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  await create(t, edith, { name: "Red chair" });
  await create(t, edith, { name: "Blue CHAIR" });
  await create(t, edith, { name: "100% cotton" });
  await create(t, edith, { name: "Table_top" });
  const names = async (q: string) =>
    ((await (await t.request(`/products?q=${encodeURIComponent(q)}`, as(edith))).json()).items as { name: string }[])
      .map((p) => p.name);
  assert.deepEqual(await names("chair"), ["Red chair", "Blue CHAIR"]);
  assert.deepEqual(await names("%"), ["100% cotton"]);
  assert.deepEqual(await names("_"), ["Table_top"]);
  assert.deepEqual(await names("' OR 1=1 --"), []);
});

Deno.test("PUT /products/:id updates, bumps the version and ETag, and writes product_updated", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const product = await create(t, edith);
  const response = await t.json("PUT", `/products/${product.id}`, {
    name: "Desk lamp v2",
    priceCents: 2999,
    stock: 2,
  }, as(edith, { "If-Match": '"1"' }));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("ETag"), '"2"');
  const updated = await response.json();
  assert.equal(updated.version, 2);
  assert.equal(updated.name, "Desk lamp v2");
  assert.equal(updated.description, "");
  assert.equal(updated.createdAt, product.createdAt);
  assert.equal(auditRows(t.deps, "product_updated").length, 1);
});

Deno.test("PUT /products/:id with a stale If-Match is 412 and changes nothing (no lost update)", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const product = await create(t, edith);
  const first = await t.json(
    "PUT",
    `/products/${product.id}`,
    { name: "A", priceCents: 1, stock: 1 },
    as(edith, {
      "If-Match": '"1"',
    }),
  );
  assert.equal(first.status, 200);
  const before = productRow(t, product.id);
  for (const ifMatch of ['"1"', 'W/"2"', '"3", "4"']) {
    const stale = await t.json(
      "PUT",
      `/products/${product.id}`,
      { name: "B", priceCents: 2, stock: 2 },
      as(edith, {
        "If-Match": ifMatch,
      }),
    );
    assert.equal(stale.status, 412, ifMatch);
    await problem(stale);
  }
  assert.deepEqual(productRow(t, product.id), before);
  const star = await t.json(
    "PUT",
    `/products/${product.id}`,
    { name: "C", priceCents: 3, stock: 3 },
    as(edith, {
      "If-Match": "*",
    }),
  );
  assert.equal(star.status, 200);
});

Deno.test("an editor cannot change or delete another editor's product (403); the row is unchanged", async () => {
  await using t = await createTestApp();
  const owner = await t.user("owner", ["editor"]);
  const other = await t.user("other", ["editor"]);
  const product = await create(t, owner);
  const before = productRow(t, product.id);
  const put = await t.json("PUT", `/products/${product.id}`, { name: "Mine now", priceCents: 1, stock: 1 }, as(other));
  assert.equal(put.status, 403);
  await problem(put);
  const del = await t.request(`/products/${product.id}`, { method: "DELETE", ...as(other) });
  assert.equal(del.status, 403);
  assert.deepEqual(productRow(t, product.id), before);
  assert.equal(auditRows(t.deps, "authz_fail").length, 2);
});

Deno.test("an admin (products:manage) can change and delete anyone's product", async () => {
  await using t = await createTestApp();
  const owner = await t.user("owner", ["editor"]);
  const admin = await t.user("root", ["admin"]);
  const product = await create(t, owner);
  const put = await t.json("PUT", `/products/${product.id}`, { name: "Moderated", priceCents: 1, stock: 1 }, as(admin));
  assert.equal(put.status, 200);
  assert.equal((await put.json()).ownerId, owner.id);
  const del = await t.request(`/products/${product.id}`, { method: "DELETE", ...as(admin) });
  assert.equal(del.status, 204);
  assert.equal(productRow(t, product.id), undefined);
  assert.equal(auditRows(t.deps, "product_deleted").length, 1);
});

Deno.test("a viewer can read but not create, update or delete products (403)", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const viewer = await t.user("victor");
  const product = await create(t, edith);
  assert.equal((await t.request("/products", as(viewer))).status, 200);
  const attempts = [
    await t.json("POST", "/products", { name: "x", priceCents: 1, stock: 1 }, as(viewer)),
    await t.json("PUT", `/products/${product.id}`, { name: "x", priceCents: 1, stock: 1 }, as(viewer)),
    await t.request(`/products/${product.id}`, { method: "DELETE", ...as(viewer) }),
  ];
  for (const response of attempts) {
    assert.equal(response.status, 403);
    assert.match(String((await problem(response)).type), /forbidden$/);
  }
});

Deno.test("mass assignment: id, ownerId, version, timestamps and roles in a product body are 422", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const other = await t.user("other", ["editor"]);
  const product = await create(t, edith);
  const base = { name: "x", priceCents: 1, stock: 1 };
  for (
    const extra of [
      { id: 999 },
      { ownerId: other.id },
      { version: 50 },
      { createdAt: "2000-01-01T00:00:00.000Z" },
      { updatedAt: "2000-01-01T00:00:00.000Z" },
      { roles: ["admin"] },
    ]
  ) {
    const post = await t.json("POST", "/products", { ...base, ...extra }, as(edith));
    assert.equal(post.status, 422, JSON.stringify(extra));
    const errors = (await problem(post)).errors as { path: string; message: string }[];
    assert.deepEqual(errors.map((e) => e.path), Object.keys(extra));
    const put = await t.json("PUT", `/products/${product.id}`, { ...base, ...extra }, as(edith));
    assert.equal(put.status, 422, JSON.stringify(extra));
  }
  assert.equal((await t.request(`/products/${product.id}`, as(edith)).then((r) => r.json())).ownerId, edith.id);
  assert.equal(t.db.prepare("SELECT count(*) AS n FROM products").get<{ n: number }>()!.n, 1);
});

Deno.test("invalid product fields are 422 with each path and reason, never echoing the value", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const cases: [Record<string, unknown>, string[]][] = [
    [{ name: "", priceCents: 1, stock: 1 }, ["name"]],
    [{ name: "x".repeat(201), priceCents: 1, stock: 1 }, ["name"]],
    [{ name: "ok", description: "d".repeat(2001), priceCents: 1, stock: 1 }, ["description"]],
    [{ name: "ok", priceCents: 19.99, stock: 1 }, ["priceCents"]],
    [{ name: "ok", priceCents: -1, stock: 1 }, ["priceCents"]],
    [{ name: "ok", priceCents: "100", stock: 1 }, ["priceCents"]],
    [{ name: "ok", priceCents: 1, stock: -5 }, ["stock"]],
    [{ name: "line\nbreak", priceCents: 1, stock: 1 }, ["name"]],
    [{ priceCents: 1, stock: 1 }, ["name"]],
    [{}, ["name", "priceCents", "stock"]],
  ];
  for (const [body, paths] of cases) {
    const response = await t.json("POST", "/products", body, as(edith));
    assert.equal(response.status, 422, JSON.stringify(body));
    const problemBody = await problem(response);
    assert.deepEqual((problemBody.errors as { path: string }[]).map((e) => e.path).sort(), paths.sort());
    assert.ok(!JSON.stringify(problemBody).includes("x".repeat(201)));
  }
  assert.ok(auditRows(t.deps, "input_validation_fail").length >= cases.length);
});

Deno.test("a body that is not application/json is 415; malformed JSON is 400; over 64 KiB is 413", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const send = (body: string, type?: string) =>
    t.request("/products", {
      method: "POST",
      headers: { Authorization: edith.basic, ...(type ? { "Content-Type": type } : {}) },
      body,
    });
  const json = JSON.stringify({ name: "x", priceCents: 1, stock: 1 });
  for (const type of [undefined, "text/plain", "application/x-www-form-urlencoded", "application/vnd.evil+json"]) {
    const response = await send(json, type);
    assert.equal(response.status, 415, String(type));
    await problem(response);
  }
  const malformed = await send('{"name": ', "application/json");
  assert.equal(malformed.status, 400);
  assert.match(String((await problem(malformed)).type), /malformed-json$/);
  const before = t.kdf.calls;
  const huge = await send(
    JSON.stringify({ name: "x", description: "y".repeat(70_000), priceCents: 1, stock: 1 }),
    "application/json",
  );
  assert.equal(huge.status, 413);
  await problem(huge);
  assert.equal(t.kdf.calls, before, "the size check runs before authentication");
  assert.equal(t.db.prepare("SELECT count(*) AS n FROM products").get<{ n: number }>()!.n, 0);
});

Deno.test("a deleted product is gone (404) and its id is never reused", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const first = await create(t, edith);
  assert.equal((await t.request(`/products/${first.id}`, { method: "DELETE", ...as(edith) })).status, 204);
  assert.equal((await t.request(`/products/${first.id}`, as(edith))).status, 404);
  assert.equal((await t.request(`/products/${first.id}`, { method: "DELETE", ...as(edith) })).status, 404);
  assert.ok((await create(t, edith)).id > first.id);
});

Deno.test("a wrong method on a known path is 405 with Allow; an unknown path is 404", async () => {
  await using t = await createTestApp();
  const edith = await t.user("edith", ["editor"]);
  const patch = await t.request("/products/1", { method: "PATCH", ...as(edith) });
  assert.equal(patch.status, 405);
  assert.deepEqual(patch.headers.get("Allow")!.split(", ").sort(), ["DELETE", "GET", "HEAD", "PUT"]);
  await problem(patch);
  const unknown = await t.request("/nope", as(edith));
  assert.equal(unknown.status, 404);
  assert.equal((await problem(unknown)).instance, "/nope");
});

Deno.test("no response ever carries a password hash, salt or token hash", async () => {
  await using t = await createTestApp();
  const admin = await t.user("root", ["admin"]);
  const edith = await t.user("edith", ["editor"]);
  await create(t, edith);
  const login = await (await t.request("/auth/login", { method: "POST", ...as(edith) })).json();
  const secrets = t.db.prepare("SELECT password_hash AS s FROM users UNION ALL SELECT hash FROM tokens")
    .all<{ s: string }>().flatMap((r) => [r.s, ...r.s.split("$").filter((part) => part.length >= 20)]);
  const bodies: string[] = [JSON.stringify(login)];
  for (
    const path of [
      "/auth/me",
      "/users",
      `/users/${edith.id}`,
      "/products",
      "/products/1",
      "/roles",
      "/permissions",
      "/audit",
    ]
  ) {
    const response = await t.request(path, as(admin));
    assert.equal(response.status, 200, path);
    bodies.push(await response.text());
  }
  for (const body of bodies) {
    for (const secret of secrets) assert.ok(!body.includes(secret), `a secret leaked in ${body.slice(0, 80)}`);
    assert.ok(!/passwordHash|password_hash|"salt"|tokenHash/i.test(body), body.slice(0, 200));
  }
});
