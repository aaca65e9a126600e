import assert from "node:assert/strict";
import { parseConfig } from "../config.ts";
import { describeListenError, type ListenAddress, preflight, type PreflightOptions } from "./preflight.ts";

/** A permission set like `permissions.server`: read data/ certs/ sql/, write data/ certs/, net :8443 and :8444. */
function serverSet(extra: { net?: string[] } = {}): PreflightOptions {
  const inside = (path: string, folders: string[]) =>
    folders.some((f) => path === f || path.startsWith(`${f}/`) || path.startsWith(`./${f}/`) || path === `./${f}`);
  const probes: string[] = [];
  return {
    query(descriptor) {
      if (descriptor.name === "read") {
        return inside(descriptor.path as string, ["data", "certs", "sql"]) ? "granted" : "prompt";
      }
      if (descriptor.name === "write") {
        return inside(descriptor.path as string, ["data", "certs"]) ? "granted" : "prompt";
      }
      if (descriptor.name === "net") {
        return ["127.0.0.1:8443", "127.0.0.1:8444", ...(extra.net ?? [])].includes(descriptor.host!)
          ? "granted"
          : "prompt";
      }
      return "prompt";
    },
    stat(path) {
      if (path.startsWith("certs/real")) return { isFile: true } as Deno.FileInfo;
      throw new Deno.errors.NotFound(path);
    },
    probeListen(host, port) {
      probes.push(`${host}:${port}`);
    },
  };
}

Deno.test("preflight() accepts the defaults", () => {
  assert.equal(preflight(parseConfig({}), serverSet()), null);
});

Deno.test("preflight() refuses a weak APP_ADMIN_PASSWORD before anything is opened", () => {
  let touched = false;
  const options = { ...serverSet(), probeListen: () => void (touched = true) };
  const line = preflight(parseConfig({ APP_ADMIN_PASSWORD: "short" }), options);
  assert.equal(
    line,
    "APP_ADMIN_PASSWORD: must be at least 15 characters (it has 5) (the password policy is in SECURITY.md)",
  );
  assert.equal(touched, false, "nothing else was checked or bound");
});

Deno.test("preflight() names APP_DB outside data/ and the deno.json entry to change", () => {
  const line = preflight(parseConfig({ APP_DB: "/tmp/elsewhere/app.db" }), serverSet())!;
  assert.match(line, /^APP_DB=\/tmp\/elsewhere\/app\.db: the server may only read and write under data\//);
  assert.match(line, /permissions\.server\.read and \.write in deno\.json/);
  assert.equal(preflight(parseConfig({ APP_DB: ":memory:" }), serverSet()), null);
});

Deno.test("preflight() names a TLS file outside the readable folders, and one that is missing", () => {
  const outside = preflight(
    parseConfig({ APP_TLS_CERT: "/etc/ssl/cert.pem", APP_TLS_KEY: "certs/real-key.pem" }),
    serverSet(),
  );
  assert.match(
    outside!,
    /^APP_TLS_CERT=\/etc\/ssl\/cert\.pem: outside the folders the server may read; put it under certs\//,
  );
  const missing = preflight(
    parseConfig({ APP_TLS_CERT: "certs/real.pem", APP_TLS_KEY: "certs/missing-key.pem" }),
    serverSet(),
  );
  assert.equal(missing, "APP_TLS_KEY=certs/missing-key.pem: no such file");
});

Deno.test("preflight() names the permissions.server.net entry to add for another port, never --allow-net as the fix", () => {
  const line = preflight(parseConfig({ APP_PORT: "9443" }), serverSet())!;
  assert.match(
    line,
    /^APP_PORT=9443: the server permission set does not allow listening on 127\.0\.0\.1:9443; add "127\.0\.0\.1:9443" to permissions\.server\.net in deno\.json/,
  );
  assert.match(line, /do not pass --allow-net/);
  assert.equal(preflight(parseConfig({ APP_PORT: "9443" }), serverSet({ net: ["127.0.0.1:9443"] })), null);
  assert.match(preflight(parseConfig({ APP_HOST: "::1", APP_PORT: "9443" }), serverSet())!, /add "\[::1\]:9443"/);
});

Deno.test("preflight() reports a port in use in one line", () => {
  const options = {
    ...serverSet(),
    probeListen: () => {
      throw new Deno.errors.AddrInUse("Address already in use (os error 98)");
    },
  };
  assert.match(preflight(parseConfig({}), options)!, /^APP_PORT=8443: 127\.0\.0\.1:8443 is already in use/);
});

Deno.test("preflight() checks the loopback port behind the connection guard too, naming APP_CONNECTION_GUARD_PORT", () => {
  const line = preflight(parseConfig({ APP_CONNECTION_GUARD_PORT: "9444" }), serverSet())!;
  assert.match(
    line,
    /^APP_CONNECTION_GUARD_PORT=9444: the server permission set does not allow listening on 127\.0\.0\.1:9444 \(the HTTPS server behind the connection guard\); add "127\.0\.0\.1:9444" to permissions\.server\.net in deno\.json/,
  );
  const probed: string[] = [];
  const taken = {
    ...serverSet(),
    probeListen: (host: string, port: number) => {
      probed.push(`${host}:${port}`);
      if (port === 8444) throw new Deno.errors.AddrInUse("Address already in use (os error 98)");
    },
  };
  assert.match(
    preflight(parseConfig({}), taken)!,
    /^APP_CONNECTION_GUARD_PORT=8444: 127\.0\.0\.1:8444 \(the HTTPS server behind the connection guard\) is already in use/,
  );
  assert.deepEqual(probed, ["127.0.0.1:8443", "127.0.0.1:8444"], "both addresses probed, the public one first");
  // With the guard off (a proxy in front) nothing binds that port, so nothing checks it.
  probed.length = 0;
  assert.equal(preflight(parseConfig({ APP_CONNECTION_GUARD: "off", APP_CONNECTION_GUARD_PORT: "9444" }), taken), null);
  assert.deepEqual(probed, ["127.0.0.1:8443"]);
});

Deno.test("describeListenError() maps bind failures to one line and leaves other errors alone", () => {
  const address: ListenAddress = { variable: "APP_PORT", host: "127.0.0.1", port: 1 };
  assert.match(describeListenError(new Deno.errors.AddrInUse("x"), address)!, /^APP_PORT=1: .*already in use/);
  assert.match(describeListenError(new Deno.errors.NotCapable("x"), address)!, /permissions\.server\.net/);
  assert.match(
    describeListenError(new Deno.errors.AddrNotAvailable("x"), { ...address, host: "10.9.9.9" })!,
    /^APP_HOST=10\.9\.9\.9/,
  );
  assert.equal(describeListenError(new TypeError("x"), address), null);
});

Deno.test("describeListenError() names APP_CONNECTION_GUARD_PORT for the port behind the guard", () => {
  const behind: ListenAddress = { variable: "APP_CONNECTION_GUARD_PORT", host: "127.0.0.1", port: 8444 };
  assert.match(
    describeListenError(new Deno.errors.AddrInUse("x"), behind)!,
    /^APP_CONNECTION_GUARD_PORT=8444: 127\.0\.0\.1:8444 \(the HTTPS server behind the connection guard\) is already in use.*set APP_CONNECTION_GUARD_PORT to a free port/,
  );
  assert.match(
    describeListenError(new Deno.errors.NotCapable("x"), behind)!,
    /^APP_CONNECTION_GUARD_PORT=8444: .*add "127\.0\.0\.1:8444" to permissions\.server\.net in deno\.json/,
  );
});
