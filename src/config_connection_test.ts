import assert from "node:assert/strict";
import { type Config, ConfigError, parseConfig } from "./config.ts";

const CONNECTION_FIELDS = [
  "connectionGuard",
  "connectionGuardPort",
  "maxConnections",
  "maxConnectionsPerClient",
  "handshakeTimeoutMs",
  "idleTimeoutMs",
  "requestTimeoutMs",
] as const;

function connectionsOf(config: Config): Record<string, unknown> {
  return Object.fromEntries(CONNECTION_FIELDS.map((field) => [field, config[field]]));
}

Deno.test("parseConfig() connection settings: the guard is on by default, with documented caps and deadlines", () => {
  assert.deepEqual(connectionsOf(parseConfig({})), {
    connectionGuard: true,
    connectionGuardPort: 8444,
    maxConnections: null,
    maxConnectionsPerClient: 64,
    handshakeTimeoutMs: 10_000,
    idleTimeoutMs: 30_000,
    requestTimeoutMs: 30_000,
  });
});

Deno.test("parseConfig() connection settings: every variable is read, and off turns the guard off", () => {
  const config = parseConfig({
    APP_CONNECTION_GUARD: "off",
    APP_CONNECTION_GUARD_PORT: "9444",
    APP_MAX_CONNECTIONS: "5000",
    APP_MAX_CONNECTIONS_PER_CLIENT: "8",
    APP_HANDSHAKE_TIMEOUT_MS: "1000",
    APP_IDLE_TIMEOUT_MS: "2000",
    APP_REQUEST_TIMEOUT_MS: "3000",
  });
  assert.deepEqual(connectionsOf(config), {
    connectionGuard: false,
    connectionGuardPort: 9444,
    maxConnections: 5000,
    maxConnectionsPerClient: 8,
    handshakeTimeoutMs: 1000,
    idleTimeoutMs: 2000,
    requestTimeoutMs: 3000,
  });
  assert.ok(Object.isFrozen(config));
});

Deno.test("parseConfig() connection settings: bad values stop the start with one line naming the variable", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ APP_CONNECTION_GUARD: "maybe" }, /^APP_CONNECTION_GUARD: /],
    [{ APP_MAX_CONNECTIONS_PER_CLIENT: "0" }, /^APP_MAX_CONNECTIONS_PER_CLIENT: must be at least 1/],
    [{ APP_IDLE_TIMEOUT_MS: "10" }, /^APP_IDLE_TIMEOUT_MS: must be at least 100/],
    [{ APP_MAX_CONNECTIONS: "-5" }, /^APP_MAX_CONNECTIONS: must be a whole number/],
    [{ APP_PORT: "9000", APP_CONNECTION_GUARD_PORT: "9000" }, /^APP_CONNECTION_GUARD_PORT: must differ from APP_PORT/],
  ];
  for (const [env, message] of cases) {
    assert.throws(
      () => parseConfig(env),
      (error: unknown) => error instanceof ConfigError && message.test(error.message),
    );
  }
  assert.equal(
    parseConfig({ APP_PORT: "9000", APP_CONNECTION_GUARD_PORT: "9000", APP_CONNECTION_GUARD: "off" }).port,
    9000,
  );
});

Deno.test("parseConfig() connection settings: production refuses the guard off unless a proxy in front is trusted", () => {
  const production = { APP_ENV: "production", APP_TLS_CERT: "certs/c.pem", APP_TLS_KEY: "certs/k.pem" };
  assert.throws(
    () => parseConfig({ ...production, APP_CONNECTION_GUARD: "off" }),
    (error: unknown) =>
      error instanceof ConfigError &&
      /^APP_CONNECTION_GUARD: off in production only behind a proxy/.test(error.message),
  );
  const behindProxy = parseConfig({ ...production, APP_CONNECTION_GUARD: "off", APP_TRUST_PROXY: "10.0.0.5" });
  assert.equal(behindProxy.connectionGuard, false);
  assert.equal(parseConfig({ APP_CONNECTION_GUARD: "off" }).connectionGuard, false, "development: allowed");
});
