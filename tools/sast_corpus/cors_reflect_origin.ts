/** The API is called from the storefront, the admin app and partners' sites, with cookies. */
import { Hono } from "hono";
import { cors } from "hono/cors";

const app = new Hono();

app.use("/api/*", cors({ origin: (origin) => origin, credentials: true })); // flaw

app.get("/api/me", (c) => c.json({ user: "from-session-cookie" }));

export default app;
