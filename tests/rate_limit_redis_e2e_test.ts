/**
 * The real server, under its permission set, with the Redis store: two
 * processes share one limit, and a Redis address the sandbox does not allow
 * is refused (auth fails closed) rather than silently unlimited.
 */
import assert from "node:assert/strict";
import { freePort, jsonLines, projectCopy, type ServerProcess, startServer } from "./e2e_helpers.ts";
import { startRedis, type TestRedis } from "./redis_helpers.ts";

async function serverOn(redis: TestRedis, dir: string, allowRedis: boolean): Promise<ServerProcess> {
  const port = freePort();
  const net = [`127.0.0.1:${port}`, ...(allowRedis ? [`127.0.0.1:${redis.port}`] : [])].join(",");
  return await startServer({
    dir,
    port,
    args: ["run", "-P=server", `--allow-net=${net}`, "main.ts"],
    env: {
      APP_PORT: String(port),
      APP_RATE_LIMIT_STORE: redis.url,
      APP_RATE_LIMIT_API: "3/60",
      APP_RATE_LIMIT_AUTH: "2/60",
      APP_ADMIN_PASSWORD: "Correct-Horse-e2e-7731-battery",
    },
  });
}

async function get(server: ServerProcess, path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(`${server.origin}${path}`, { ...init, client: server.client });
  await response.body?.cancel();
  return response;
}

Deno.test("two server processes on one Redis enforce one limit", async () => {
  const redis = await startRedis();
  const dir = await projectCopy();
  const servers: ServerProcess[] = [];
  try {
    servers.push(await serverOn(redis, dir, true));
    servers.push(await serverOn(redis, dir, true));
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const seen = [];
    for (const server of [a, b, a, b]) {
      const response = await get(server, "/health");
      seen.push([response.status, response.headers.get("RateLimit")?.split(";")[1]]);
    }
    assert.deepEqual(seen, [[200, "r=2"], [200, "r=1"], [200, "r=0"], [429, "r=0"]]);
    const keys = await redis.cli("--scan", "--pattern", "secure-api:rl:*");
    assert.equal(keys, "secure-api:rl:api:c:127.0.0.1", "the state lives in Redis, under the client's key");
  } finally {
    for (const server of servers) assert.equal(await server.stop(), 0);
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a Redis address outside the permission set fails closed for auth and open for the api", async () => {
  const redis = await startRedis();
  const dir = await projectCopy();
  let server: ServerProcess | null = null;
  try {
    server = await serverOn(redis, dir, false);
    const login = await get(server, "/auth/login", {
      method: "POST",
      headers: { Authorization: `Basic ${btoa("admin:Correct-Horse-e2e-7731-battery")}` },
    });
    assert.equal(login.status, 503);
    assert.equal((await get(server, "/health")).status, 200);
    const logs = jsonLines(server.stdout);
    const unavailable = logs.find((l) => String(l.message).startsWith("redis unavailable"));
    assert.ok(unavailable, `the store logs why: ${server.stdout.join("\n")}`);
    assert.match(JSON.stringify(unavailable), /net access|NotCapable|Requires/i);
    assert.equal(await redis.cli("DBSIZE"), "0", "nothing reached Redis");
  } finally {
    if (server) assert.equal(await server.stop(), 0);
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
