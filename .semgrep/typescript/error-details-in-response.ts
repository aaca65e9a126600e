// Fixture for error-details-in-response (semgrep --test).
import { Hono } from "hono";
declare function work(): void;
declare function problemResponse(e: unknown, path: string, id: string): Response;

const app = new Hono();

app.onError((err, c) => {
  // ruleid: error-details-in-response
  return c.json({ error: err.message }, 500);
});

function handler(c: { text(t: string): Response; json(v: unknown): Response }) {
  try {
    work();
  } catch (e) {
    // ruleid: error-details-in-response
    return new Response((e as Error).stack, { status: 500 });
  }
  try {
    work();
  } catch (e) {
    const body = { detail: String(e) };
    // ruleid: error-details-in-response
    return c.json(body);
  }
  try {
    work();
  } catch (error) {
    // ruleid: error-details-in-response
    return c.text(`failed: ${error}`);
  }
  // ok: error-details-in-response
  return c.json({ status: "ok" });
}

app.onError((err, c) => {
  console.error(err.message);
  // ok: error-details-in-response
  return c.json({ type: "urn:secure-api:problem:internal", title: "Internal Server Error" }, 500);
});

// ok: error-details-in-response
const safe = (path: string, id: string) => problemResponse(new Error("x"), path, id);

export { handler, safe };
