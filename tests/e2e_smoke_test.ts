import assert from "node:assert/strict";
import { startServer } from "./e2e_helpers.ts";

Deno.test("e2e smoke: the real task serves /health over TLS", async () => {
  const server = await startServer();
  try {
    const response = await fetch(`${server.origin}/health`, { client: server.client });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.ok(server.adminPassword);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
