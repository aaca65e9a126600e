/**
 * "No change without its row" (SECURITY.md "Audit log"; ASVS 5.0 16.3): each data change and its audit row
 * commit in one transaction. A trigger makes the audit insert of one event
 * fail — after the change it describes has been made in the same
 * transaction — and the test checks that the change is gone too, that the
 * client got a generic 500, and that no log line claims the row exists.
 */
import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { hashToken } from "../src/crypto/tokens.ts";
import { createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";
import { captureLogs } from "./log_capture.ts";

/** Makes every insert of an `event` audit row fail: constant DDL, the event bound as a parameter. */
function failAuditOf(t: TestApp, event: string): void {
  t.db.exec(`CREATE TABLE IF NOT EXISTS injected_failures (event TEXT PRIMARY KEY);
    CREATE TRIGGER IF NOT EXISTS inject_failure BEFORE INSERT ON audit_log
    WHEN NEW.event IN (SELECT event FROM injected_failures)
    BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END`);
  t.db.prepare("INSERT INTO injected_failures (event) VALUES (:event)").run({ event });
}

interface Scenario {
  event: string;
  /** Makes the data the request will change; returns what `act` and `unchanged` need. */
  arrange(t: TestApp): Promise<Record<string, unknown>>;
  act(t: TestApp, s: Record<string, unknown>): Promise<Response>;
  /** Asserts the data is exactly as before the request. */
  unchanged(t: TestApp, s: Record<string, unknown>): Promise<void> | void;
}

const PRODUCT = { name: "Lamp", priceCents: 1999, stock: 3 };

async function editorWithProduct(t: TestApp) {
  const editor = await t.user("edith", ["editor"]);
  const product = t.deps.repos.products.create({ ...PRODUCT, description: "" }, editor.id, "2026-01-01T00:00:00.000Z");
  return { editor, product };
}

async function login(t: TestApp, user: TestUser): Promise<string> {
  const res = await t.request("/auth/login", { method: "POST", headers: { Authorization: user.basic } });
  assert.equal(res.status, 200);
  return (await res.json()).token;
}

const scenarios: Scenario[] = [
  {
    event: "product_created",
    arrange: async (t) => ({ editor: await t.user("edith", ["editor"]) }),
    act: (t, s) => t.json("POST", "/products", PRODUCT, { headers: { Authorization: (s.editor as TestUser).basic } }),
    unchanged: (t) => assert.deepEqual(t.deps.repos.products.list({ after: 0, limit: 10 }), []),
  },
  {
    event: "product_updated",
    arrange: editorWithProduct,
    act: (t, s) =>
      t.json("PUT", `/products/${(s.product as { id: number }).id}`, { ...PRODUCT, name: "Changed" }, {
        headers: { Authorization: (s.editor as TestUser).basic },
      }),
    unchanged: (t, s) => assert.deepEqual(t.deps.repos.products.get((s.product as { id: number }).id), s.product),
  },
  {
    event: "product_deleted",
    arrange: editorWithProduct,
    act: (t, s) =>
      t.request(`/products/${(s.product as { id: number }).id}`, {
        method: "DELETE",
        headers: { Authorization: (s.editor as TestUser).basic },
      }),
    unchanged: (t, s) => assert.deepEqual(t.deps.repos.products.get((s.product as { id: number }).id), s.product),
  },
  {
    event: "user_created",
    arrange: () => Promise.resolve({}),
    act: (t) => t.json("POST", "/auth/register", { username: "newbie", password: "correct horse battery 9" }),
    unchanged: (t) => assert.equal(t.deps.repos.users.findByUsername("newbie"), undefined),
  },
  {
    event: "authn_password_change",
    arrange: async (t) => {
      const alice = await t.user("alice");
      const token = await login(t, alice);
      return { alice, token, hash: t.deps.repos.users.findById(alice.id)!.passwordHash };
    },
    act: (t, s) =>
      t.json("PUT", "/auth/password", {
        currentPassword: (s.alice as TestUser).password,
        newPassword: "a brand new passphrase 42",
      }, { headers: { Authorization: (s.alice as TestUser).basic } }),
    unchanged: async (t, s) => {
      const alice = s.alice as TestUser;
      assert.equal(t.deps.repos.users.findById(alice.id)!.passwordHash, s.hash);
      assert.ok(t.deps.repos.tokens.find(hashToken(s.token as string)), "the token was not revoked");
      const kdf = t.kdf.calls;
      const still = await t.request("/auth/me", { headers: { Authorization: alice.basic } });
      assert.equal(still.status, 200, "the old password still works");
      assert.equal(t.kdf.calls, kdf, "…from the credential cache, which was not evicted");
    },
  },
  {
    event: "authn_token_created",
    arrange: async (t) => ({ alice: await t.user("alice") }),
    act: (t, s) =>
      t.request("/auth/login", { method: "POST", headers: { Authorization: (s.alice as TestUser).basic } }),
    unchanged: (t) => {
      const { n } = t.db.prepare("SELECT count(*) AS n FROM tokens").get<{ n: number }>()!;
      assert.equal(n, 0);
    },
  },
  {
    event: "authn_token_revoked",
    arrange: async (t) => {
      const alice = await t.user("alice");
      return { token: await login(t, alice) };
    },
    act: (t, s) => t.request("/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${s.token}` } }),
    unchanged: async (t, s) => {
      const res = await t.request("/auth/me", { headers: { Authorization: `Bearer ${s.token}` } });
      assert.equal(res.status, 200, "the token still works");
    },
  },
  {
    event: "authz_change",
    arrange: async (t) => ({ admin: await t.user("root", ["admin"]), bob: await t.user("bob") }),
    act: (t, s) =>
      t.json("PUT", `/users/${(s.bob as TestUser).id}/roles`, { roles: ["editor"] }, {
        headers: { Authorization: (s.admin as TestUser).basic },
      }),
    unchanged: (t, s) => assert.deepEqual(t.deps.repos.users.rolesOf((s.bob as TestUser).id), ["viewer"]),
  },
  {
    event: "user_updated",
    arrange: async (t) => {
      const admin = await t.user("root", ["admin"]);
      const bob = await t.user("bob");
      return { admin, bob, token: await login(t, bob) };
    },
    act: (t, s) =>
      t.request(`/users/${(s.bob as TestUser).id}/disable`, {
        method: "POST",
        headers: { Authorization: (s.admin as TestUser).basic },
      }),
    unchanged: (t, s) => {
      assert.equal(t.deps.repos.users.findById((s.bob as TestUser).id)!.disabled, false);
      assert.ok(t.deps.repos.tokens.find(hashToken(s.token as string)), "bob's token was not revoked");
    },
  },
  {
    event: "user_deleted",
    arrange: async (t) => ({ admin: await t.user("root", ["admin"]), bob: await t.user("bob") }),
    act: (t, s) =>
      t.request(`/users/${(s.bob as TestUser).id}`, {
        method: "DELETE",
        headers: { Authorization: (s.admin as TestUser).basic },
      }),
    unchanged: (t, s) => assert.ok(t.deps.repos.users.findById((s.bob as TestUser).id)),
  },
];

for (const scenario of scenarios) {
  Deno.test(`${scenario.event}: when its audit row cannot be written, the change is rolled back too`, async () => {
    await using logs = await captureLogs();
    await using t = await createTestApp({ logger: getLogger(["secure-api", "audit"]) });
    const state = await scenario.arrange(t);
    const rowsBefore = t.deps.audit.query({ afterSeq: 0, limit: 1000 }).length;
    failAuditOf(t, scenario.event);
    const linesBefore = logs.lines.length;

    const res = await scenario.act(t, state);

    assert.equal(res.status, 500);
    const body = await problem(res);
    assert.equal(body.type, "urn:secure-api:problem:internal");
    assert.ok(!JSON.stringify(body).includes("injected"), "the cause stays out of the response");
    await scenario.unchanged(t, state);
    assert.equal(t.deps.audit.query({ event: scenario.event, afterSeq: 0, limit: 1000 }).length, 0);
    const newLines = logs.json().slice(linesBefore);
    assert.ok(
      newLines.every((l) => (l.properties as { audit?: { event: string } }).audit?.event !== scenario.event),
      "no log line for a row that never committed",
    );
    const error = newLines.find((l) => l.level === "ERROR")!;
    assert.equal((error.properties as { requestId: string }).requestId, res.headers.get("X-Request-Id"));
    assert.match(JSON.stringify(error.properties), /injected audit failure/, "the cause goes to the log");
    t.db.exec("DROP TRIGGER inject_failure");
    assert.ok(t.deps.audit.query({ afterSeq: 0, limit: 1000 }).length >= rowsBefore);
    assert.equal(t.deps.audit.verify().ok, true, "the chain is intact");
  });
}
