import { Hono } from "hono";

const app = new Hono();
const FORMATTERS = { upper: (s: string) => s.toUpperCase(), lower: (s: string) => s.toLowerCase() };

app.post("/calc", async (c) => {
  const { expression } = await c.req.json();
  // ruleid: input-to-code-evaluation
  return c.json({ result: eval(expression) });
});

app.get("/filter", (c) => {
  const body = `return item.${c.req.query("field")} > 0;`;
  // ruleid: input-to-code-evaluation
  const predicate = new Function("item", body);
  return c.json({ ok: predicate({}) });
});

app.get("/later", (c) => {
  const code = c.req.query("callback") ?? "";
  // ruleid: input-to-code-evaluation
  setTimeout(code, 10);
  return c.body(null, 202);
});

app.get("/plugins/:name", async (c) => {
  // ruleid: input-to-code-evaluation
  const plugin = await import(`./plugins/${c.req.param("name")}.ts`);
  return c.json(plugin.describe());
});

app.post("/jobs", async (c) => {
  const { script } = c.req.valid("json");
  // ruleid: input-to-code-evaluation
  new Worker(script, { type: "module" });
  return c.body(null, 202);
});

// A CLI that evaluates its argument.
// ruleid: input-to-code-evaluation
eval(Deno.args[0] ?? "");

// --- correct code ---

app.get("/ok/format", (c) => {
  const name = c.req.query("format");
  // ok: input-to-code-evaluation
  const format = name === "upper" ? FORMATTERS.upper : FORMATTERS.lower;
  return c.text(format(c.req.query("text") ?? ""));
});

app.get("/ok/timer", (c) => {
  const delay = Number(c.req.query("delay"));
  // ok: input-to-code-evaluation
  setTimeout(() => c.var.logger.info("done"), delay);
  return c.body(null, 202);
});

// ok: input-to-code-evaluation
const module = await import("./plugins/builtin.ts");
