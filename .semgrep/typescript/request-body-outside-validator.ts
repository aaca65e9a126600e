// Fixture for request-body-outside-validator (semgrep --test).
import type { Context } from "hono";
declare const c: Context, request: Request;
declare function handle(body: unknown): void;

async function handlers() {
  // ruleid: request-body-outside-validator
  const body = JSON.parse(await c.req.text());

  // ruleid: request-body-outside-validator
  const text = await request.text();
  handle(JSON.parse(text));

  // ruleid: request-body-outside-validator
  const input = await c.req.json();

  // ruleid: request-body-outside-validator
  const form = await c.req.parseBody();

  // ruleid: request-body-outside-validator
  const raw = await c.req.raw.json();

  // ok: request-body-outside-validator
  const valid = c.req.valid("json" as never);

  // ok: request-body-outside-validator
  const cursor = JSON.parse(atob("e30"));

  // ok: request-body-outside-validator
  const header = c.req.header("Content-Type");

  return [body, input, form, raw, valid, cursor, header];
}
