import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./config.ts";

const TLS = { APP_TLS_CERT: "/etc/tls/cert.pem", APP_TLS_KEY: "/etc/tls/key.pem" };

Deno.test("parseConfig() with nothing set gives the documented defaults", () => {
  const config = parseConfig({});
  assert.equal(config.env, "development");
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8443);
  assert.equal(config.dbPath, "data/app.db");
  assert.equal(config.tls, null);
  assert.equal(config.pbkdf2Iterations, 600_000);
  assert.equal(config.pepper, null);
  assert.deepEqual(config.rateLimitAuth, { quota: 10, windowSeconds: 60 });
  assert.deepEqual(config.rateLimitApi, { quota: 600, windowSeconds: 60 });
  assert.deepEqual(config.corsOrigins, []);
  assert.equal(config.logLevel, "info");
  assert.equal(config.logFormat, "json");
  assert.equal(config.adminUsername, "admin");
  assert.equal(config.adminPassword, null);
});

Deno.test("parseConfig() returns a deeply frozen object", () => {
  const config = parseConfig({ APP_CORS_ORIGINS: "https://a.example" });
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.corsOrigins));
  assert.ok(Object.isFrozen(config.rateLimitApi));
});

Deno.test("parseConfig() names the bad variable in a one-line error", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ APP_PORT: "99999" }, /^APP_PORT: must be at most 65535$/],
    [{ APP_PORT: "http" }, /^APP_PORT: must be a whole number$/],
    [{ APP_ENV: "staging" }, /^APP_ENV: /],
    [{ APP_PBKDF2_ITERATIONS: "10" }, /^APP_PBKDF2_ITERATIONS: must be at least 1000$/],
    [{ APP_PEPPER: "short" }, /^APP_PEPPER: must be at least 32 characters$/],
    [{ APP_LOG_LEVEL: "loud" }, /^APP_LOG_LEVEL: /],
    [{ APP_LOG_FORMAT: "xml" }, /^APP_LOG_FORMAT: /],
    [{ APP_CORS_ORIGINS: "*" }, /^APP_CORS_ORIGINS: "\*" is not an exact origin/],
    [{ APP_CORS_ORIGINS: "https://a.example/path" }, /^APP_CORS_ORIGINS: /],
    [{ APP_ADMIN_USERNAME: "a b" }, /^APP_ADMIN_USERNAME: /],
    [{ APP_TLS_CERT: "/only/the/cert.pem" }, /^APP_TLS_CERT: APP_TLS_CERT and APP_TLS_KEY must be set together$/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => parseConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"));
      return true;
    }, JSON.stringify(env));
  }
});

Deno.test("production refuses fewer than 600,000 PBKDF2 iterations", () => {
  assert.throws(
    () => parseConfig({ APP_ENV: "production", APP_PBKDF2_ITERATIONS: "599999", ...TLS }),
    { message: /^APP_PBKDF2_ITERATIONS: must be at least 600000 in production$/ },
  );
  assert.equal(parseConfig({ APP_ENV: "production", ...TLS }).pbkdf2Iterations, 600_000);
  assert.equal(parseConfig({ APP_PBKDF2_ITERATIONS: "1000" }).pbkdf2Iterations, 1_000);
});

Deno.test("production refuses to run on the generated development certificate", () => {
  assert.throws(() => parseConfig({ APP_ENV: "production" }), {
    message: /^APP_TLS_CERT: production needs a real certificate/,
  });
  assert.deepEqual(parseConfig({ APP_ENV: "production", ...TLS }).tls, {
    certFile: TLS.APP_TLS_CERT,
    keyFile: TLS.APP_TLS_KEY,
  });
});

Deno.test("parseConfig() ignores variables it does not know and empty values", () => {
  const config = parseConfig({ APP_PORT: "", HOME: "/root", APP_UNKNOWN: "x" });
  assert.equal(config.port, 8443);
});
