import { Hono } from "hono";

const app = new Hono();

// ruleid: redos-prone-regex
const EMAIL = /^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$/;
// ruleid: redos-prone-regex
const WORDS = new RegExp("^(\\w+\\s?)*$");

app.post("/signup", async (c) => {
  const { email } = await c.req.json();
  // ruleid: redos-prone-regex
  if (!/^(a+)+$/.test(email)) return c.body(null, 422);
  return c.json({ ok: EMAIL.test(email) && WORDS.test(email) });
});

// ok: redos-prone-regex
const USERNAME = /^[A-Za-z0-9._-]{3,64}$/;
// ok: redos-prone-regex
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
