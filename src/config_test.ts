import assert from "node:assert/strict";
import { CONFIG_VARIABLES, ConfigError, parseConfig, SECRET_FILE_VARIABLES, SETTINGS } from "./config.ts";

const TLS = { APP_TLS_CERT: "/etc/tls/cert.pem", APP_TLS_KEY: "/etc/tls/key.pem" };

Deno.test("parseConfig() with nothing set gives the documented defaults", () => {
  const config = parseConfig({});
  assert.equal(config.env, "development");
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8443);
  assert.equal(config.dbPath, "data/app.db");
  assert.equal(config.tlsCertFile, null);
  assert.equal(config.tlsKeyFile, null);
  assert.equal(config.pbkdf2Iterations, 600_000);
  assert.equal(config.pepper, null);
  assert.deepEqual(config.rateLimitAuth, { quota: 10, windowSeconds: 60 });
  assert.deepEqual(config.rateLimitApi, { quota: 600, windowSeconds: 60 });
  assert.deepEqual(config.corsOrigins, []);
  assert.equal(config.logLevel, "info");
  assert.equal(config.logFormat, "json");
  assert.equal(config.adminUsername, null, "no default administrator name: one is generated");
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
    [{ APP_ADMIN_USERNAME: "Admin" }, /^APP_ADMIN_USERNAME: must not be a well-known administrator name/],
    [{ APP_ADMIN_USERNAME: "root" }, /^APP_ADMIN_USERNAME: must not be a well-known administrator name/],
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

Deno.test("parseConfig() in production refuses fewer than 600,000 PBKDF2 iterations", () => {
  assert.throws(
    () => parseConfig({ APP_ENV: "production", APP_PBKDF2_ITERATIONS: "599999", ...TLS }),
    { message: /^APP_PBKDF2_ITERATIONS: must be at least 600000 in production$/ },
  );
  assert.equal(parseConfig({ APP_ENV: "production", ...TLS }).pbkdf2Iterations, 600_000);
  assert.equal(parseConfig({ APP_PBKDF2_ITERATIONS: "1000" }).pbkdf2Iterations, 1_000);
});

Deno.test("parseConfig() in production refuses the generated development certificate", () => {
  assert.throws(() => parseConfig({ APP_ENV: "production" }), {
    message: /^APP_TLS_CERT: production needs a real certificate/,
  });
  const production = parseConfig({ APP_ENV: "production", ...TLS });
  assert.deepEqual([production.tlsCertFile, production.tlsKeyFile], [TLS.APP_TLS_CERT, TLS.APP_TLS_KEY]);
});

Deno.test("parseConfig() ignores variables it does not know and empty values", () => {
  const config = parseConfig({ APP_PORT: "", HOME: "/root", APP_UNKNOWN: "x" });
  assert.equal(config.port, 8443);
});

Deno.test("parseConfig() rate-limit and proxy variables", async (t) => {
  const oneLineError = (env: Record<string, string>, message: RegExp) =>
    assert.throws(() => parseConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"), "one line");
      return true;
    }, JSON.stringify(env));

  await t.step("APP_RATE_LIMIT_AUTH and APP_RATE_LIMIT_API read quota/window seconds", () => {
    const config = parseConfig({ APP_RATE_LIMIT_AUTH: "5/30", APP_RATE_LIMIT_API: " 1200/60 " });
    assert.deepEqual(config.rateLimitAuth, { quota: 5, windowSeconds: 30 });
    assert.deepEqual(config.rateLimitApi, { quota: 1_200, windowSeconds: 60 });
    assert.deepEqual(parseConfig({ APP_RATE_LIMIT_API: "1000000/1" }).rateLimitApi, {
      quota: 1_000_000,
      windowSeconds: 1,
    });
  });

  await t.step("a malformed or meaningless policy names its variable", () => {
    for (
      const bad of ["10", "10/", "/60", "0/60", "10/0", "-1/60", "1.5/60", "10/60s", "10 / 60", "1e3/60", "ten/60"]
    ) {
      oneLineError(
        { APP_RATE_LIMIT_AUTH: bad },
        /^APP_RATE_LIMIT_AUTH: must be "<quota>\/<window seconds>", e\.g\. 600\/60$/,
      );
      oneLineError({ APP_RATE_LIMIT_API: bad }, /^APP_RATE_LIMIT_API: must be "<quota>\/<window seconds>"/);
    }
    oneLineError(
      { APP_RATE_LIMIT_API: "1000001/1" },
      /^APP_RATE_LIMIT_API: allows more than one request per microsecond$/,
    );
    oneLineError({ APP_RATE_LIMIT_API: "1000000000/60" }, /^APP_RATE_LIMIT_API: must be/);
    oneLineError({ APP_RATE_LIMIT_API: "10/1000000" }, /^APP_RATE_LIMIT_API: must be/);
  });

  await t.step("APP_RATE_LIMIT_STORE is memory or a redis URL with a host", () => {
    assert.deepEqual(parseConfig({}).rateLimitStore, { kind: "memory" });
    assert.deepEqual(parseConfig({ APP_RATE_LIMIT_STORE: "memory" }).rateLimitStore, { kind: "memory" });
    for (
      const url of [
        "redis://127.0.0.1:6379",
        "redis://localhost",
        "rediss://:pw@cache.internal:6380/2",
        "redis://[::1]:6379",
      ]
    ) {
      assert.deepEqual(parseConfig({ APP_RATE_LIMIT_STORE: url }).rateLimitStore, { kind: "redis", url });
    }
    for (const bad of ["redis://", "redis:/host", "http://cache:6379", "Memory", "cache:6379", "redis"]) {
      oneLineError(
        { APP_RATE_LIMIT_STORE: bad },
        /^APP_RATE_LIMIT_STORE: must be "memory" or a redis:\/\/host:port URL$/,
      );
    }
  });

  await t.step("a bad APP_RATE_LIMIT_STORE is not echoed, since it may carry a password", () => {
    assert.throws(() => parseConfig({ APP_RATE_LIMIT_STORE: "redis://:hunter2-secret@" }), (error: Error) => {
      assert.equal(error.message.includes("hunter2-secret"), false);
      return true;
    });
  });

  await t.step("APP_RATE_LIMIT_MAX_KEYS bounds the in-memory store", () => {
    assert.equal(parseConfig({}).rateLimitMaxKeys, 100_000);
    assert.equal(parseConfig({ APP_RATE_LIMIT_MAX_KEYS: "250000" }).rateLimitMaxKeys, 250_000);
    oneLineError({ APP_RATE_LIMIT_MAX_KEYS: "99" }, /^APP_RATE_LIMIT_MAX_KEYS: must be at least 100$/);
    oneLineError({ APP_RATE_LIMIT_MAX_KEYS: "10000001" }, /^APP_RATE_LIMIT_MAX_KEYS: must be at most 10000000$/);
    oneLineError({ APP_RATE_LIMIT_MAX_KEYS: "1e5" }, /^APP_RATE_LIMIT_MAX_KEYS: must be a whole number$/);
  });

  await t.step("APP_TRUST_PROXY reads comma-separated addresses and CIDRs", () => {
    assert.deepEqual(parseConfig({}).trustProxy, []);
    const proxies = parseConfig({ APP_TRUST_PROXY: "10.0.0.0/8, 192.0.2.7 ,2001:db8::/48,," }).trustProxy;
    assert.deepEqual(proxies.map((p) => [p.version, p.prefix]), [[4, 8], [4, 32], [6, 48]]);
  });

  await t.step("APP_TRUST_PROXY refuses junk and a /0 that would trust every client", () => {
    oneLineError(
      { APP_TRUST_PROXY: "10.0.0.0/8,proxy.internal" },
      /^APP_TRUST_PROXY: "proxy\.internal" is not an IP address or CIDR/,
    );
    oneLineError({ APP_TRUST_PROXY: "10.0.0.0/33" }, /^APP_TRUST_PROXY: "10\.0\.0\.0\/33" is not/);
    oneLineError({ APP_TRUST_PROXY: "010.0.0.1" }, /^APP_TRUST_PROXY: "010\.0\.0\.1" is not/);
    oneLineError({ APP_TRUST_PROXY: "0.0.0.0/0" }, /^APP_TRUST_PROXY: "0\.0\.0\.0\/0" is not .*a \/0 trusts everyone/);
    oneLineError({ APP_TRUST_PROXY: "::/0" }, /^APP_TRUST_PROXY: "::\/0" is not/);
  });
});

Deno.test("SETTINGS declares each variable once, documented; CONFIG_VARIABLES and Config come from it", () => {
  const names = Object.values(SETTINGS).map((s) => s.name);
  assert.equal(new Set(names).size, names.length, "a variable declared twice");
  assert.deepEqual(CONFIG_VARIABLES, [...names, ...SECRET_FILE_VARIABLES]);
  for (const { name, doc } of Object.values(SETTINGS)) {
    assert.match(name, /^APP_[A-Z0-9_]+$/);
    assert.ok(doc.length > 10, `${name} is documented`);
  }
  // Every declared field is a field of the parsed config, and nothing else is.
  assert.deepEqual(Object.keys(parseConfig({})).sort(), Object.keys(SETTINGS).sort());
});

const PRODUCTION = { APP_ENV: "production", ...TLS };

Deno.test("parseConfig() in production requires rediss:// with an ACL user and password for Redis", () => {
  const refused: [string, RegExp][] = [
    ["redis://cache.internal:6379", /^APP_RATE_LIMIT_STORE: production needs rediss:\/\/ \(TLS\) for Redis$/],
    ["redis://limiter:s3cret-pass@cache.internal:6379", /needs rediss:\/\//],
    ["rediss://cache.internal:6379", /^APP_RATE_LIMIT_STORE: production needs Redis credentials/],
    ["rediss://:s3cret-pass@cache.internal:6379", /production needs Redis credentials/],
    ["rediss://default:s3cret-pass@cache.internal:6379", /a Redis ACL user of its own, not the shared default user$/],
  ];
  for (const [url, message] of refused) {
    assert.throws(() => parseConfig({ ...PRODUCTION, APP_RATE_LIMIT_STORE: url }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, message);
      assert.ok(!error.message.includes("s3cret"), "the URL's password is never echoed");
      return true;
    }, url);
  }
  const url = "rediss://limiter:s3cret-pass@cache.internal:6380";
  assert.deepEqual(parseConfig({ ...PRODUCTION, APP_RATE_LIMIT_STORE: url }).rateLimitStore, { kind: "redis", url });
  // Outside production a local redis:// stays possible (development, tests).
  assert.equal(parseConfig({ APP_RATE_LIMIT_STORE: "redis://127.0.0.1:6379" }).rateLimitStore.kind, "redis");
});

Deno.test("parseConfig() APP_REDIS_CA names the only CA trusted for rediss://, and needs rediss://", () => {
  const config = parseConfig({ APP_RATE_LIMIT_STORE: "rediss://limiter:pw@cache:6380", APP_REDIS_CA: "/etc/ca.pem" });
  assert.equal(config.redisCA, "/etc/ca.pem");
  for (const store of ["memory", "redis://127.0.0.1:6379"]) {
    assert.throws(() => parseConfig({ APP_RATE_LIMIT_STORE: store, APP_REDIS_CA: "/etc/ca.pem" }), {
      message: /^APP_REDIS_CA: needs a rediss:\/\/ APP_RATE_LIMIT_STORE/,
    });
  }
});

Deno.test("parseConfig() in production refuses the debug and trace log levels", () => {
  for (const level of ["debug", "trace"]) {
    assert.throws(() => parseConfig({ ...PRODUCTION, APP_LOG_LEVEL: level }), {
      message: new RegExp(`^APP_LOG_LEVEL: ${level} is refused in production`),
    });
    assert.equal(parseConfig({ APP_LOG_LEVEL: level }).logLevel, level);
  }
  assert.equal(parseConfig({ ...PRODUCTION, APP_LOG_LEVEL: "warning" }).logLevel, "warning");
});

Deno.test("parseConfig() APP_PEPPERS: id:secret pairs, newest first; malformed lists refused without echoing a secret", () => {
  const v2 = "2".repeat(40);
  const v1 = "1".repeat(32);
  assert.deepEqual(parseConfig({ APP_PEPPERS: `v2:${v2}, v1:${v1}` }).peppers, [
    { id: "v2", secret: v2 },
    { id: "v1", secret: v1 },
  ]);
  assert.deepEqual(parseConfig({}).peppers, []);
  const refused: [string, RegExp][] = [
    [`${v2}`, /entry 1 must be "<id>:<secret>"/],
    [`V2:${v2}`, /entry 1 must be/],
    [`v2:${v2},v1:short-secret`, /the secret of "v1" must be at least 32 characters/],
    [`v2:${v2},v2:${v1}`, /"v2" is given twice/],
  ];
  for (const [value, message] of refused) {
    assert.throws(() => parseConfig({ APP_PEPPERS: value }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^APP_PEPPERS: /);
      assert.match(error.message, message);
      assert.ok(!error.message.includes(v2) && !error.message.includes("short-secret"));
      return true;
    }, value);
  }
});

Deno.test("parseConfig() refuses an APP_*_FILE secret that resolveSecretFiles() did not read", () => {
  for (const name of ["APP_PEPPER_FILE", "APP_PEPPERS_FILE", "APP_ADMIN_PASSWORD_FILE", "APP_RATE_LIMIT_STORE_FILE"]) {
    assert.ok(CONFIG_VARIABLES.includes(name), `${name} is fetched from the environment`);
    assert.throws(() => parseConfig({ [name]: "/run/secrets/x" }), { message: new RegExp(`^${name}: `) });
  }
});
