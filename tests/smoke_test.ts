import assert from "node:assert/strict";
import { createTestApp, problem } from "./helpers.ts";

Deno.test("smoke: an editor creates and reads a product", async () => {
  const t = await createTestApp();
  const editor = await t.user("edith", ["editor"]);
  const created = await t.json("POST", "/products", { name: "Lamp", priceCents: 1999, stock: 3 }, {
    headers: { Authorization: editor.basic },
  });
  assert.equal(created.status, 201, await created.clone().text());
  const product = await created.json();
  const read = await t.request(`/products/${product.id}`, { headers: { Authorization: editor.basic } });
  assert.equal(read.status, 200);
  assert.equal((await read.json()).name, "Lamp");
  const anonymous = await t.request(`/products/${product.id}`);
  assert.equal(anonymous.status, 401);
  await problem(anonymous);
  t.db.close();
});
