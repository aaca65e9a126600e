/**
 * No secret in any log line or audit row (ASVS 5.0 16.2.5; SECURITY.md "Audit log"): a broad
 * scenario — registration, logins, wrong passwords, token use, bad tokens,
 * password changes, logout, rejected input, with a pepper configured — runs
 * through HTTP while every log line (through the real `configureLogging`
 * and JSON formatter) and every audit row is captured, then both are
 * searched for every password, token, token hash, `Authorization` value,
 * password hash and the pepper.
 */
import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { hashToken } from "../src/crypto/tokens.ts";
import { basicAuth, createTestApp } from "./helpers.ts";
import { captureLogs } from "./log_capture.ts";

Deno.test("a full authentication scenario leaves no password, token, Authorization value or pepper in logs or audit rows", async () => {
  await using logs = await captureLogs("trace");
  const pepper = `pepper-${crypto.randomUUID()}-${crypto.randomUUID()}`;
  await using t = await createTestApp({ env: { APP_PEPPER: pepper }, logger: getLogger(["secure-api", "audit"]) });
  const secrets = new Set<string>([pepper]);
  const secret = <T extends string>(value: T): T => (secrets.add(value), value);
  const send = (path: string, init: RequestInit = {}) => {
    const auth = new Headers(init.headers).get("Authorization");
    if (auth) {
      secret(auth);
      secret(auth.slice(auth.indexOf(" ") + 1));
    }
    return t.request(path, init);
  };
  const sendJSON = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    send(path, { method, headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify(body) });

  const first = secret(`first secret passphrase ${crypto.randomUUID()}`);
  const second = secret(`second secret passphrase ${crypto.randomUUID()}`);
  const statuses: number[] = [];
  const expect = async (response: Promise<Response>, status: number) => {
    const res = await response;
    statuses.push(res.status);
    assert.equal(res.status, status, await res.clone().text());
    return res;
  };

  await expect(sendJSON("POST", "/auth/register", { username: "alice", password: first }), 201);
  await expect(sendJSON("POST", "/auth/register", { username: "bob", password: secret("Tr0ub4dor&3") }), 422);
  await expect(
    sendJSON("POST", "/auth/register", { username: "eve", password: first, token: secret("tok-in-body-1") }),
    422,
  );
  for (let i = 0; i < 6; i++) {
    await expect(
      send("/auth/me", {
        headers: { Authorization: basicAuth("alice", secret(`wrong guess ${i} ${crypto.randomUUID()}`)) },
      }),
      i < 5 ? 401 : 429,
    );
  }
  await expect(
    send("/auth/me", {
      headers: { Authorization: basicAuth("nobody", secret(`unknown-user-pw-${crypto.randomUUID()}`)) },
    }),
    401,
  );
  // alice's pair is throttled from TEST_PEER now; she logs in from another address.
  const peer = "198.51.100.7";
  const login = await expect(
    t.request("/auth/login", { method: "POST", headers: { Authorization: secret(basicAuth("alice", first)) }, peer }),
    200,
  );
  const token = secret((await login.json()).token as string);
  secret(hashToken(token));
  const bearer = secret(`Bearer ${token}`);
  await expect(t.request("/auth/me", { headers: { Authorization: bearer }, peer }), 200);
  await expect(t.request("/products", { headers: { Authorization: bearer }, peer }), 200);
  const forged = secret(crypto.randomUUID().replaceAll("-", "").padEnd(43, "x"));
  await expect(t.request("/auth/me", { headers: { Authorization: secret(`Bearer ${forged}`) }, peer }), 401);
  await expect(t.request("/auth/me", { headers: { Authorization: secret(`Bearer ${token}.tampered`) }, peer }), 401);
  await expect(
    t.request("/auth/me", { headers: { Authorization: secret(`Basic ${btoa(`alice:${first}`)}!`) }, peer }),
    401,
  );
  await expect(
    t.json("PUT", "/auth/password", {
      currentPassword: secret(`not-current-${crypto.randomUUID()}`),
      newPassword: second,
    }, {
      headers: { Authorization: bearer },
      peer,
    }),
    403,
  );
  await expect(
    t.json("PUT", "/auth/password", { currentPassword: first, newPassword: secret("tiny-pw-9") }, {
      headers: { Authorization: bearer },
      peer,
    }),
    422,
  );
  await expect(
    t.json("PUT", "/auth/password", { currentPassword: first, newPassword: second }, {
      headers: { Authorization: bearer },
      peer,
    }),
    204,
  );
  await expect(t.request("/auth/me", { headers: { Authorization: bearer }, peer }), 401);
  const relogin = await expect(
    t.request("/auth/login", { method: "POST", headers: { Authorization: secret(basicAuth("alice", second)) }, peer }),
    200,
  );
  const token2 = secret((await relogin.json()).token as string);
  secret(hashToken(token2));
  await expect(
    t.request("/auth/logout", { method: "POST", headers: { Authorization: secret(`Bearer ${token2}`) }, peer }),
    204,
  );

  // Stored password hashes are secrets too (offline guessing material).
  for (const { password_hash } of t.db.prepare("SELECT password_hash FROM users").all<{ password_hash: string }>()) {
    secret(password_hash);
    secret(password_hash.split("$").at(-1)!);
  }

  // The search must have something to search: the scenario produced the events it should have.
  const rows = t.db.prepare("SELECT * FROM audit_log ORDER BY seq").all();
  const events = new Set(rows.map((r) => r.event));
  for (
    const event of [
      "user_created",
      "input_validation_fail",
      "authn_login_fail",
      "authn_login_fail_max",
      "authn_login_success",
      "authn_token_created",
      "authn_password_change",
      "authn_token_revoked",
    ]
  ) {
    assert.ok(events.has(event), `the scenario recorded ${event}`);
  }
  assert.ok(logs.lines.length >= rows.length, "every audit row was also logged");

  const haystacks = [
    ...logs.lines.map((line, i) => [`log line ${i}`, line] as const),
    ...rows.map((row) => [`audit row ${row.seq}`, JSON.stringify(row)] as const),
  ];
  const leaks: string[] = [];
  for (const value of secrets) {
    for (const [where, text] of haystacks) {
      if (text.includes(value) || text.includes(JSON.stringify(value).slice(1, -1))) {
        leaks.push(`${JSON.stringify(value)} in ${where}`);
      }
    }
  }
  assert.deepEqual(leaks, []);
  assert.ok(secrets.size > 30, `searched for ${secrets.size} secrets`);
});
