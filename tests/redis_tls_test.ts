/**
 * Redis over TLS with an account of its own (SECURITY.md "Redis"; ASVS 5.0
 * 12.3.1, 12.3.2, 12.3.4, 13.2.2, 13.2.3): a real `redis-server` listening
 * only for TLS, with a certificate from a private CA made here by `openssl`,
 * the `default` user off and the one account of `deploy/redis_acl.conf`.
 * The rate-limit store is built the way `main.ts` builds it, from the
 * configuration (`APP_RATE_LIMIT_STORE`, `APP_REDIS_CA`).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { getLogger } from "@logtape/logtape";
import { createClient } from "redis";
import { parseConfig } from "../src/config.ts";
import { createRateLimitStore } from "../src/ratelimit/create_store.ts";
import type { RateLimitStore } from "../src/ratelimit/store.ts";
import { StoreUnavailableError } from "../src/ratelimit/store.ts";
import { freePort } from "./e2e_helpers.ts";
import { captureRecords } from "./log_capture.ts";
import { waitUntil } from "./redis_helpers.ts";

const PASSWORD = "rate-limiter-password-for-this-test-only";
const POLICY = { quota: 3, windowMs: 60_000 };

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** A private CA and a server certificate for `names`, signed by it. */
async function makeCertificates(dir: string, prefix: string, names: string): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    `${prefix}ca.key`,
    "-out",
    `${prefix}ca.pem`,
    "-days",
    "2",
    "-subj",
    "/CN=test redis CA",
  ], dir);
  await run("openssl", [
    "req",
    ...ec,
    "-keyout",
    `${prefix}server.key`,
    "-out",
    `${prefix}server.csr`,
    "-subj",
    "/CN=redis",
  ], dir);
  await Deno.writeTextFile(`${dir}/${prefix}ext.cnf`, `subjectAltName=${names}\n`);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    `${prefix}server.csr`,
    "-CA",
    `${prefix}ca.pem`,
    "-CAkey",
    `${prefix}ca.key`,
    "-CAcreateserial",
    "-out",
    `${prefix}server.pem`,
    "-days",
    "2",
    "-extfile",
    `${prefix}ext.cnf`,
  ], dir);
}

/** The account line of deploy/redis_acl.conf with this test's password hash, and the default user off. */
async function aclLines(): Promise<string[]> {
  const file = await Deno.readTextFile(new URL("../deploy/redis_acl.conf", import.meta.url));
  const lines = file.split("\n").filter((line) => line.startsWith("user "));
  assert.deepEqual(lines.map((l) => l.split(" ")[1]), ["default", "secure-api"]);
  // Redis's ACL format is `#<SHA-256 of the password>` (Redis hashes it the same way): a throwaway test password.
  const hash = createHash("sha256").update(PASSWORD).digest("hex"); // nosemgrep: password-fast-hash
  return lines.map((line) => line.replace("#CHANGE-ME", `#${hash}`));
}

interface TLSRedis {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** `redis-server` with TLS only (no plain port), the ACL above, certificates under `prefix`. */
async function startTLSRedis(dir: string, prefix = ""): Promise<TLSRedis> {
  const port = freePort();
  await Deno.writeTextFile(`${dir}/users.acl`, (await aclLines()).join("\n") + "\n");
  const child = new Deno.Command("redis-server", {
    args: [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--tls-cert-file",
      `${dir}/${prefix}server.pem`,
      "--tls-key-file",
      `${dir}/${prefix}server.key`,
      "--tls-ca-cert-file",
      `${dir}/${prefix}ca.pem`,
      "--tls-auth-clients",
      "no",
      "--aclfile",
      `${dir}/users.acl`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitUntil(`TLS redis on ${port}`, async () => {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return true;
    } catch {
      return false;
    }
  });
  return {
    port,
    dir,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    },
  };
}

async function withTLSRedis(fn: (redis: TLSRedis) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  let redis: TLSRedis | undefined;
  try {
    await makeCertificates(dir, "", "IP:127.0.0.1,DNS:localhost");
    redis = await startTLSRedis(dir);
    await fn(redis);
  } finally {
    await redis?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The store main.ts would build for these variables. */
function storeFor(env: Record<string, string>, connectWaitMs = 5_000): Promise<RateLimitStore> {
  return createRateLimitStore(parseConfig(env), getLogger(["test", "redis-tls"]), { connectWaitMs });
}

/** Asserts that `env`'s store refuses the server for its certificate (the reason logged), and never decides. */
async function assertCertificateRefused(env: Record<string, string>, label: string): Promise<void> {
  await using logs = await captureRecords(["test", "redis-tls"]);
  const store = await storeFor(env, 100);
  try {
    const reason = () =>
      logs.records.map((r) => String(r.properties.error)).find((e) =>
        /certificate|self[- ]signed|unable to (get|verify)|altname|hostname|issuer/i.test(e)
      );
    await waitUntil(`a certificate error (${label})`, () => Promise.resolve(reason() !== undefined));
    await assert.rejects(async () => await store.consume("client:192.0.2.1", POLICY), StoreUnavailableError, label);
  } finally {
    await store.close();
  }
}

Deno.test("the rate limiter works over rediss:// trusting only APP_REDIS_CA, under the deploy/redis_acl.conf account", async () => {
  await withTLSRedis(async (redis) => {
    const store = await storeFor({
      APP_ENV: "production",
      APP_TLS_CERT: "/unused/cert.pem",
      APP_TLS_KEY: "/unused/key.pem",
      APP_RATE_LIMIT_STORE: `rediss://secure-api:${PASSWORD}@127.0.0.1:${redis.port}`,
      APP_REDIS_CA: `${redis.dir}/ca.pem`,
    });
    try {
      const allowed = [];
      for (let i = 0; i < 4; i++) allowed.push((await store.consume("client:192.0.2.1", POLICY)).allowed);
      assert.deepEqual(allowed, [true, true, true, false]);
    } finally {
      await store.close();
    }
  });
});

Deno.test("a rediss:// server whose certificate is not from the trusted CA, or not for the host, is never used", async () => {
  await withTLSRedis(async (redis) => {
    await makeCertificates(redis.dir, "other-", "DNS:redis.internal");
    const url = `rediss://secure-api:${PASSWORD}@127.0.0.1:${redis.port}`;
    await assertCertificateRefused({ APP_RATE_LIMIT_STORE: url }, "the system store, which knows no private CA");
    await assertCertificateRefused(
      { APP_RATE_LIMIT_STORE: url, APP_REDIS_CA: `${redis.dir}/other-ca.pem` },
      "another CA",
    );
  });
  // The right CA, the wrong name: host name verification holds with a private CA too.
  const dir = await Deno.makeTempDir();
  let redis: TLSRedis | undefined;
  try {
    await makeCertificates(dir, "", "DNS:redis.internal");
    redis = await startTLSRedis(dir);
    await assertCertificateRefused({
      APP_RATE_LIMIT_STORE: `rediss://secure-api:${PASSWORD}@127.0.0.1:${redis.port}`,
      APP_REDIS_CA: `${dir}/ca.pem`,
    }, "a certificate for another host");
  } finally {
    await redis?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the deploy/redis_acl.conf account can do nothing but the rate limiter's work; without it nothing works", async () => {
  await withTLSRedis(async (redis) => {
    const ca = await Deno.readTextFile(`${redis.dir}/ca.pem`);
    const connect = async (url: string) => {
      const client = createClient({ url, socket: { tls: true, ca, reconnectStrategy: false } });
      client.on("error", () => {});
      await client.connect();
      return client;
    };
    const limiter = await connect(`rediss://secure-api:${PASSWORD}@127.0.0.1:${redis.port}`);
    try {
      const refused: [string, () => Promise<unknown>][] = [
        ["FLUSHALL", () => limiter.flushAll()],
        ["CONFIG GET", () => limiter.configGet("*")],
        ["KEYS", () => limiter.keys("*")],
        ["SCRIPT FLUSH", () => limiter.scriptFlush()],
        ["GET outside secure-api:rl:", () => limiter.get("sessions:1")],
        ["SET outside secure-api:rl:", () => limiter.set("other", "1")],
        ["DEL", () => limiter.del("secure-api:rl:x")],
        ["PUBLISH", () => limiter.publish("channel", "x")],
        ["ACL SETUSER", () => limiter.sendCommand(["ACL", "SETUSER", "secure-api", "+@all"])],
      ];
      for (const [label, call] of refused) {
        await assert.rejects(call(), /NOPERM/, label);
      }
      assert.equal(await limiter.set("secure-api:rl:probe", "1"), "OK", "its own keys are its to use");
    } finally {
      limiter.destroy();
    }
    // The shared default user is off: no password, or the default user with one, gets nowhere.
    for (const url of [`rediss://127.0.0.1:${redis.port}`, `rediss://default:${PASSWORD}@127.0.0.1:${redis.port}`]) {
      const client = createClient({ url, socket: { tls: true, ca, reconnectStrategy: false } });
      client.on("error", () => {});
      await assert.rejects(
        (async () => {
          await client.connect();
          await client.get("secure-api:rl:probe");
        })(),
        /WRONGPASS|NOAUTH|NOPERM|disabled/i,
        url,
      );
      client.destroy();
    }
  });
});
