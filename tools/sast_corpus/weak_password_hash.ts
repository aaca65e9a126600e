/** Account sign-up: store a hash of the password, never the password. */
import { Hono } from "hono";

const app = new Hono();
const users = new Map<string, string>();

async function hashPassword(password: string, salt: string): Promise<string> {
  const data = new TextEncoder().encode(salt + password);
  const digest = await crypto.subtle.digest("SHA-256", data); // flaw
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

app.post("/signup", async (c) => {
  const { username, password } = await c.req.json();
  const salt = crypto.randomUUID();
  users.set(username, `${salt}:${await hashPassword(password, salt)}`);
  return c.body(null, 201);
});

export default app;
