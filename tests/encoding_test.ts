/**
 * Input is decoded once, and no client text reaches a URL the API builds
 * (SECURITY.md "Errors and input"; ASVS 5.0 1.1.1, 1.2.2). Each case sends
 * a value whose meaning changes if it is decoded a second time, and checks
 * it kept its first-decoding meaning.
 */
import assert from "node:assert/strict";
import { basicAuth, createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";

async function seed(t: TestApp): Promise<{ editor: TestUser; id: number }> {
  const editor = await t.user("edith", ["editor"]);
  const res = await t.json("POST", "/products", { name: "A%41 /../x?y#z", priceCents: 1, stock: 1 }, {
    headers: { Authorization: editor.basic },
  });
  assert.equal(res.status, 201);
  return { editor, id: (await res.json()).id };
}

Deno.test("input is decoded exactly once: a double-encoded path, query or credential keeps its once-decoded meaning", async () => {
  await using t = await createTestApp();
  const { editor, id } = await seed(t);
  const auth = { headers: { Authorization: editor.basic } };
  assert.equal(id, 1);

  // Path: %31 is "1"; %2531 decodes once to the text "%31", which is no id.
  const once = await t.request("/products/%31", auth);
  assert.equal(once.status, 200);
  await once.body?.cancel();
  const twice = await t.request("/products/%2531", auth);
  assert.equal(twice.status, 404, "a second decoding would have reached product 1");
  await problem(twice);

  // Query: q=%2541 searches for the literal "%41" (in the name), q=%41 for "A".
  const names = async (q: string) =>
    (await (await t.request(`/products?q=${q}`, auth)).json()).items.map((p: { name: string }) => p.name);
  assert.deepEqual(await names("%2541"), ["A%41 /../x?y#z"], "matched as the literal text %41");
  assert.deepEqual(await names("%252F..%252F"), [], "a doubly encoded /../ is text, not a path");
  assert.deepEqual(await names("%41%2541"), ["A%41 /../x?y#z"], "A then the literal %41");

  // Credentials: Basic is base64 then UTF-8, once. A password that looks percent-encoded is used as typed.
  const registered = await t.json("POST", "/auth/register", {
    username: "percy",
    password: "maple%20syrup%2520on snow",
  });
  assert.equal(registered.status, 201);
  await registered.body?.cancel();
  for (const [password, status] of [["maple%20syrup%2520on snow", 200], ["maple syrup%20on snow", 401]] as const) {
    const res = await t.request("/auth/me", { headers: { Authorization: basicAuth("percy", password) } });
    assert.equal(res.status, status, password);
    await res.body?.cancel();
  }
});

Deno.test("the URLs the API builds carry no client text: Location is /products/<id>, cursors are opaque base64url", async () => {
  await using t = await createTestApp();
  const editor = await t.user("edith", ["editor"]);
  const hostile = ["//evil.example/x", "javascript:alert(1)", "/../../admin", "%0d%0aSet-Cookie: a=b"];
  for (const name of hostile) {
    const res = await t.json("POST", "/products", { name, priceCents: 1, stock: 1 }, {
      headers: { Authorization: editor.basic },
    });
    assert.equal(res.status, 201, JSON.stringify(name));
    const { id } = await res.json();
    assert.equal(res.headers.get("Location"), `/products/${id}`);
    assert.equal(res.headers.get("Set-Cookie"), null);
  }
  const page = await (await t.request("/products?limit=1&q=%2F", { headers: { Authorization: editor.basic } })).json();
  assert.match(page.nextCursor, /^[A-Za-z0-9_-]+$/, "the cursor is the API's own base64url, whatever the query");
  // A cursor is decoded once and must be one the API issued: client text in its place is refused.
  const forged = await t.request(`/products?cursor=${encodeURIComponent("//evil.example")}`, {
    headers: { Authorization: editor.basic },
  });
  assert.equal(forged.status, 422);
  await problem(forged);
});
