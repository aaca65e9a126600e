/**
 * A port taken between the start-up check and the bind (README
 * "Configuration"): `serveHTTPS()` binds two addresses with the connection
 * guard on — the loopback port of the HTTPS server behind the guard
 * (`APP_CONNECTION_GUARD_PORT`, `Deno.serve` in this thread) and the public
 * port (`APP_PORT`, a `Deno.listen` in the guard's Worker). Whichever fails,
 * the error says which address it was and carries the bind's own error
 * class across the Worker boundary, so `main.ts` prints the one line naming
 * the right variable instead of a stack trace.
 */
import { getLogger } from "@logtape/logtape";
import assert from "node:assert/strict";
import { parseConfig } from "../src/config.ts";
import { ListenError, serveHTTPS } from "../src/server/serve_https.ts";
import { describeListenError } from "../src/startup/preflight.ts";
import { generateDevCertificate } from "../src/tls/dev_cert.ts";
import { freePort } from "./e2e_helpers.ts";

const quiet = getLogger(["secure-api", "test", "quiet"]);

async function serveOn(port: number, guardPort: number, guard: "on" | "off" = "on") {
  const { cert, key } = await generateDevCertificate();
  const dir = await Deno.makeTempDir({ prefix: "secure-api-listen-" });
  await Deno.writeTextFile(`${dir}/cert.pem`, cert);
  try {
    return await serveHTTPS({
      config: parseConfig({
        APP_PORT: String(port),
        APP_CONNECTION_GUARD: guard,
        APP_CONNECTION_GUARD_PORT: String(guardPort),
      }),
      cert,
      key,
      probePath: `${dir}/cert.pem`,
      handler: () => new Response("ok"),
      onError: () => new Response("error", { status: 500 }),
      log: quiet,
      audit: { append: () => Promise.resolve({} as never) },
      onFatal: (error) => {
        throw error;
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `fn` while something else holds 127.0.0.1:`port`. */
async function holding<T>(port: number, fn: () => Promise<T>): Promise<T> {
  const holder = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    return await fn();
  } finally {
    holder.close();
  }
}

Deno.test("serveHTTPS() names APP_PORT when the guard's public port is taken (the error class crosses the Worker)", async () => {
  const port = freePort();
  const guardPort = freePort();
  const error = await holding(port, () => serveOn(port, guardPort).then(() => null, (e: unknown) => e));
  assert.ok(error instanceof ListenError, String(error));
  assert.deepEqual(error.address, { variable: "APP_PORT", host: "127.0.0.1", port });
  assert.ok(error.cause instanceof Deno.errors.AddrInUse, String(error.cause));
  assert.match(
    describeListenError(error.cause, error.address)!,
    new RegExp(`^APP_PORT=${port}: 127\\.0\\.0\\.1:${port} is already in use`),
  );
  // The server behind the guard was bound first; it was released, so the port is free again.
  Deno.listen({ hostname: "127.0.0.1", port: guardPort }).close();
});

Deno.test("serveHTTPS() names APP_CONNECTION_GUARD_PORT when the loopback port behind the guard is taken", async () => {
  const port = freePort();
  const guardPort = freePort();
  const error = await holding(guardPort, () => serveOn(port, guardPort).then(() => null, (e: unknown) => e));
  assert.ok(error instanceof ListenError, String(error));
  assert.deepEqual(error.address, { variable: "APP_CONNECTION_GUARD_PORT", host: "127.0.0.1", port: guardPort });
  assert.ok(error.cause instanceof Deno.errors.AddrInUse);
  assert.match(
    describeListenError(error.cause, error.address)!,
    new RegExp(`^APP_CONNECTION_GUARD_PORT=${guardPort}: .*is already in use.*set APP_CONNECTION_GUARD_PORT`),
  );
  Deno.listen({ hostname: "127.0.0.1", port }).close(); // the guard never bound the public port
});

Deno.test("serveHTTPS() with the guard off names APP_PORT for a taken port", async () => {
  const port = freePort();
  const error = await holding(port, () => serveOn(port, freePort(), "off").then(() => null, (e: unknown) => e));
  assert.ok(error instanceof ListenError, String(error));
  assert.equal(error.address.variable, "APP_PORT");
  assert.ok(error.cause instanceof Deno.errors.AddrInUse);
});

Deno.test("serveHTTPS() serves when both ports are free", async () => {
  const port = freePort();
  const service = await serveOn(port, freePort());
  try {
    assert.equal(service.url, `https://127.0.0.1:${port}`);
  } finally {
    await service.shutdown();
  }
});
