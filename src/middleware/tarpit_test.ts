import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import { tarpit } from "./tarpit.ts";

function app(options: Parameters<typeof tarpit>[0]) {
  const a = new Hono<AppEnv>();
  a.use(tarpit(options));
  a.get("/limited", (c) => c.text("slow down", 429, { "Retry-After": "30" }));
  a.get("/soon", (c) => c.text("slow down", 429, { "Retry-After": "0" }));
  a.get("/ok", (c) => c.text("ok"));
  return a;
}

Deno.test("tarpit() holds a 429 for its Retry-After, capped at maxDelayMs", async () => {
  const waits: number[] = [];
  const a = app({ maxDelayMs: 1_000, sleep: (ms) => (waits.push(ms), Promise.resolve()) });
  assert.equal((await a.request("/limited")).status, 429);
  assert.deepEqual(waits, [1_000]);
});

Deno.test("tarpit() leaves other responses alone, and a 429 with Retry-After 0", async () => {
  const waits: number[] = [];
  const a = app({ sleep: (ms) => (waits.push(ms), Promise.resolve()) });
  assert.equal((await a.request("/ok")).status, 200);
  assert.equal((await a.request("/soon")).status, 429);
  assert.deepEqual(waits, []);
});

Deno.test("tarpit() holds at most maxHeld responses at once; the rest are answered immediately", async () => {
  const release = Promise.withResolvers<void>();
  let sleeping = 0;
  const a = app({ maxHeld: 2, sleep: () => (sleeping++, release.promise) });
  const held = [a.request("/limited"), a.request("/limited")];
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(sleeping, 2);
  assert.equal((await a.request("/limited")).status, 429); // not held: resolves while the others wait
  assert.equal(sleeping, 2);
  release.resolve();
  for (const response of await Promise.all(held)) assert.equal(response.status, 429);
  await a.request("/limited"); // capacity is released afterwards
  assert.equal(sleeping, 3);
});
