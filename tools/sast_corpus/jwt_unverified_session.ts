/** Admin routes trust the role claim of the bearer token. */
import { Hono } from "hono";
import { decodeJwt } from "jose";

const app = new Hono();

app.use("/admin/*", async (c, next) => {
  const token = (c.req.header("authorization") ?? "").replace(/^Bearer /, "");
  const claims = decodeJwt(token); // flaw
  if (claims.role !== "admin") return c.json({ error: "forbidden" }, 403);
  await next();
});

app.get("/admin/stats", (c) => c.json({ orders: 42 }));

export default app;
