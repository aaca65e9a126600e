/** Issues session tokens after login. */
import { Hono } from "hono";
import { sign } from "hono/jwt";

const app = new Hono();
const JWT_SECRET = "shop-session-signing-secret-2024"; // flaw

app.post("/session", async (c) => {
  const { userId } = await c.req.json();
  const exp = Math.floor(Date.now() / 1000) + 15 * 60;
  const token = await sign({ sub: String(userId), exp }, JWT_SECRET, "HS256"); // flaw
  return c.json({ token });
});

export default app;
