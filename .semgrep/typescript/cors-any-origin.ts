import { Hono } from "hono";
import { cors } from "hono/cors";

const app = new Hono();
const ALLOWED = new Set(["https://app.example"]);

// ruleid: cors-any-origin
app.use(cors());
// ruleid: cors-any-origin
app.use("/api/*", cors({ allowMethods: ["GET", "POST"], credentials: true }));
// ruleid: cors-any-origin
app.use(cors({ origin: "*", allowHeaders: ["Authorization"] }));
// ruleid: cors-any-origin
app.use(cors({ origin: (origin) => origin, credentials: true }));
// ruleid: cors-any-origin
app.use(cors({ origin: (origin, c) => origin ?? "*", credentials: true }));

app.get("/public", (c) => {
  // ruleid: cors-any-origin
  c.header("Access-Control-Allow-Origin", "*");
  return c.json({ ok: true });
});

app.get("/echo", (c) => {
  const origin = c.req.header("origin") ?? "";
  // ruleid: cors-origin-reflected
  c.header("Access-Control-Allow-Origin", origin);
  c.header("Access-Control-Allow-Credentials", "true");
  return c.json({ ok: true });
});

Deno.serve({ cert: "", key: "" }, (req) => {
  // ruleid: cors-origin-reflected
  return new Response("{}", { headers: { "Access-Control-Allow-Origin": req.headers.get("origin") ?? "" } });
});

// --- correct code ---

// ok: cors-any-origin
app.use(cors({ origin: ["https://app.example", "https://admin.example"], credentials: true }));
// ok: cors-any-origin
app.use(cors({ origin: (origin) => (ALLOWED.has(origin) ? origin : null) }));

app.get("/ok/listed", (c) => {
  const origin = c.req.header("origin") ?? "";
  // ok: cors-origin-reflected
  c.header("Access-Control-Allow-Origin", ALLOWED.has(origin) ? "https://app.example" : "null");
  return c.json({ ok: true });
});
