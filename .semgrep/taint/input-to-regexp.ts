import { Hono } from "hono";

const app = new Hono();
const products = [{ name: "apple" }];

app.get("/search", (c) => {
  const q = c.req.query("q") ?? "";
  // ruleid: input-to-regexp
  const re = new RegExp(q, "i");
  return c.json(products.filter((p) => re.test(p.name)));
});

app.get("/search/prefix", (c) => {
  // ruleid: input-to-regexp
  const re = RegExp("^" + c.req.query("prefix"));
  return c.json(products.filter((p) => re.test(p.name)));
});

app.post("/rules", async (c) => {
  const { pattern } = c.req.valid("json");
  // ruleid: input-to-regexp
  return c.json({ valid: new RegExp(pattern).test("x") });
});

// --- correct code ---

app.get("/ok/escaped", (c) => {
  const q = (c.req.query("q") ?? "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // ok: input-to-regexp
  const re = new RegExp(q, "i");
  return c.json(products.filter((p) => re.test(p.name)));
});

app.get("/ok/regexp-escape", (c) => {
  // ok: input-to-regexp
  const re = new RegExp(RegExp.escape(c.req.query("q") ?? ""), "i");
  return c.json(products.filter((p) => re.test(p.name)));
});

app.get("/ok/includes", (c) => {
  const q = (c.req.query("q") ?? "").toLowerCase();
  // ok: input-to-regexp
  return c.json(products.filter((p) => p.name.toLowerCase().includes(q)));
});
