/**
 * Property-based tests (fast-check): every documented endpoint is driven
 * with random and hostile bodies, query strings, path parameters and
 * headers. For every request:
 *
 * - the status is never 5xx caused by the input (no 500);
 * - every 4xx is RFC 9457 problem+json (`problem()` checks the fields);
 * - no body carries a stack trace, file path, SQL, engine name or secret;
 * - a refused request leaves every table but `audit_log` unchanged;
 * - `Object.prototype` (and friends) are never polluted.
 *
 * Failures print the seed and the shrunk request; rerun with that seed.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { hashToken } from "../src/crypto/tokens.ts";
import { declaredRoutes } from "../src/routes/route.ts";
import { type FuzzRequest, type Pieces, requestFor, type Seeded } from "./fuzz_arbitraries.ts";
import { basicAuth, createTestApp, problem, type TestApp } from "./helpers.ts";

/**
 * Runs per property: five properties × 250 take about 5 s of test time. `FUZZ_RUNS=5000` digs deeper
 * (e.g. before a release); a failure prints the seed to replay.
 */
const RUNS = Number(Deno.env.get("FUZZ_RUNS") ?? 250);
/**
 * The seed of every property. Fixed by default so that CI is reproducible and
 * the "gate was reached" checks below never depend on luck (a random 250-run
 * sample sometimes missed the 415 behind authentication). `FUZZ_SEED=<n>`
 * replays a failure; `FUZZ_SEED=random` explores new inputs.
 */
const SEED = Deno.env.get("FUZZ_SEED") === "random"
  ? crypto.getRandomValues(new Int32Array(1))[0]!
  : Number(Deno.env.get("FUZZ_SEED") ?? 20261201);

// ---------------------------------------------------------------------------
// Database digest (every table except the audit log, which records refusals)

/** Constant SQL per table. A new table must be added here (the test says so), never built from strings. */
const TABLE_QUERIES: Record<string, string> = {
  users: "SELECT * FROM users ORDER BY id",
  permissions: "SELECT * FROM permissions ORDER BY name",
  roles: "SELECT * FROM roles ORDER BY name",
  role_permissions: "SELECT * FROM role_permissions ORDER BY role, permission",
  user_roles: "SELECT * FROM user_roles ORDER BY user_id, role",
  products: "SELECT * FROM products ORDER BY id",
  tokens: "SELECT * FROM tokens ORDER BY hash",
  schema_migrations: "SELECT * FROM schema_migrations ORDER BY version",
  sqlite_sequence: "SELECT * FROM sqlite_sequence ORDER BY name",
  authz_generation: "SELECT * FROM authz_generation",
  user_id_high_water: "SELECT * FROM user_id_high_water",
};
const NOT_DIGESTED = new Set(["audit_log"]);

function digest(t: TestApp): string {
  const hash = createHash("sha256");
  for (const [table, sql] of Object.entries(TABLE_QUERIES)) {
    hash.update(table);
    for (const row of t.db.prepare(sql).all()) {
      hash.update(JSON.stringify(row, (_k, v) => typeof v === "bigint" ? String(v) : v));
    }
  }
  return hash.digest("hex");
}

function assertDigestCoversEveryTable(t: TestApp): void {
  const tables = t.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all<
    { name: string }
  >().map((row) => row.name).filter((name) => !NOT_DIGESTED.has(name));
  assert.deepEqual(tables, Object.keys(TABLE_QUERIES).sort(), "add the new table to TABLE_QUERIES");
}

// ---------------------------------------------------------------------------
// Invariants

const LEAKS: [RegExp, string][] = [
  [/\n\s+at /, "stack trace"],
  [/\b(Type|Range|Syntax|Reference|Internal)Error\b/, "JS error name"],
  [/\/src\/|\.ts:\d|file:\/\/|ext:core|node:internal/, "file path"],
  [/\bselect\b|\binsert into\b|\bsqlite/i, "SQL or engine"],
  [/constraint failed|no such (table|column)/i, "database message"],
  [/\$pbkdf2-sha256\$/, "password hash"],
];
/** A JSON key naming a secret (a quote not escaped, the key, a colon). */
const SECRET_KEY = /(?<!\\)"(passwordHash|password_hash|tokenHash|token_hash|salt|pepper)":/;

const PROTOTYPES: [string, object][] = [
  ["Object", Object.prototype],
  ["Array", Array.prototype],
  ["Function", Function.prototype],
  ["String", String.prototype],
];
const prototypeShape = () =>
  PROTOTYPES.map(([name, p]) => `${name}:${Reflect.ownKeys(p).map(String).sort().join(",")}`);
const CLEAN_PROTOTYPES = prototypeShape();

/** Every key and string value in `value`, unescaped, so patterns see real newlines. */
function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, inner]) => [key, ...stringsIn(inner)]);
  }
  return [];
}

const describe = (r: FuzzRequest) =>
  `${r.method} ${r.path} headers=${JSON.stringify(r.headers)} body=${JSON.stringify(r.body?.slice(0, 300))}`;

async function send(t: TestApp, r: FuzzRequest): Promise<Response> {
  const headers = new Headers();
  for (const [name, value] of r.headers) headers.append(name, value);
  return await t.request(r.path, {
    method: r.method,
    headers,
    peer: r.peer,
    ...(r.body !== null && r.method !== "GET" && r.method !== "HEAD" ? { body: r.body } : {}),
  });
}

/** Sends `r` and asserts every invariant; returns the status. */
async function check(t: TestApp, r: FuzzRequest): Promise<number> {
  const before = digest(t);
  const res = await send(t, r);
  const where = describe(r);
  assert.ok(res.status < 500, `${res.status} for ${where}`);
  const text = await res.clone().text();
  assert.doesNotMatch(text, SECRET_KEY, `secret field in response to ${where}`);
  if (res.status >= 400) {
    if (r.method === "HEAD") {
      assert.equal(res.headers.get("Content-Type"), "application/problem+json", where);
    } else {
      const body = await problem(res);
      // The path and rejected field names are the client's own input, echoed; everything else is ours.
      const { instance: _instance, errors, ...rest } = body as { instance: string; errors?: { path: string }[] };
      const ours = stringsIn({ ...rest, errors: errors?.map((e) => ({ ...e, path: "" })) }).join("\n");
      for (const [pattern, what] of LEAKS) assert.doesNotMatch(ours, pattern, `${what} leaked to ${where}: ${ours}`);
    }
    assert.equal(digest(t), before, `a refused request (${res.status}) changed the database: ${where}`);
  } else {
    for (const [pattern, what] of LEAKS.slice(5)) assert.doesNotMatch(text, pattern, `${what} in 2xx for ${where}`);
  }
  assert.deepEqual(prototypeShape(), CLEAN_PROTOTYPES, `prototype polluted by ${where}`);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, `Object.prototype.polluted set by ${where}`);
  return res.status;
}

// ---------------------------------------------------------------------------
// Properties

/** Fixed credentials, so a rebuilt arena answers to the same headers the generators captured. */
const ACCOUNTS = [
  { username: "root", roles: ["admin"], password: "fuzz-passphrase-one-0001" },
  { username: "edith", roles: ["editor"], password: "fuzz-passphrase-two-0002" },
  { username: "vic", roles: ["viewer"], password: "fuzz-passphrase-three-03" },
  { username: "mallory", roles: ["viewer"], password: "fuzz-passphrase-four-004" },
];
const BEARER = "fuzz_bearer_token_".padEnd(43, "A");
const SEEDED: Seeded = {
  auth: {
    root: basicAuth("root", ACCOUNTS[0]!.password),
    editor: basicAuth("edith", ACCOUNTS[1]!.password),
    viewer: basicAuth("vic", ACCOUNTS[2]!.password),
    bearer: `Bearer ${BEARER}`,
  },
  // Products 1 and 2 (root's and edith's), user 3 (vic).
  ids: ["1", "2", "3"],
};

/** The accounts and grants a successful fuzzed request may wreck (delete, disable, demote, log out). */
const ACCOUNT_STATE = [TABLE_QUERIES.users!, TABLE_QUERIES.user_roles!, TABLE_QUERIES.tokens!, TABLE_QUERIES.roles!];

/**
 * The application under fuzz. Successful requests are allowed to change
 * data; when one wrecks the seeded accounts (admin deletes edith, vic is
 * disabled, the bearer token is revoked), the arena is rebuilt so the
 * remaining runs still get past authentication.
 */
class Arena implements AsyncDisposable {
  t!: TestApp;
  #baseline = "";

  async [Symbol.asyncDispose](): Promise<void> {
    await this.t?.[Symbol.asyncDispose]();
  }

  async reset(): Promise<void> {
    await this.t?.[Symbol.asyncDispose]();
    // 10.0.0.0/8 is a trusted proxy here, so X-Forwarded-For parsing is fuzzed too.
    const t = await createTestApp({ env: { APP_TRUST_PROXY: "10.0.0.0/8" } });
    for (const { username, password, roles } of ACCOUNTS) {
      await t.deps.services.accounts.create(username, password, { client: "test" }, roles);
    }
    t.deps.repos.tokens.create(hashToken(BEARER), 1, t.clock.now(), t.clock.now() + 12 * 3600_000);
    for (const owner of ["root", "editor"]) {
      const res = await t.json("POST", "/products", { name: `seed-${owner}`, priceCents: 1, stock: 1 }, {
        headers: { Authorization: SEEDED.auth[owner]! },
      });
      assert.equal(res.status, 201);
    }
    assert.deepEqual(t.deps.repos.users.list(0, 10).map((u) => u.id), [1, 2, 3, 4]);
    assertDigestCoversEveryTable(t);
    this.t = t;
    this.#baseline = this.#accounts();
  }

  #accounts(): string {
    return ACCOUNT_STATE.map((sql) => JSON.stringify(this.t.db.prepare(sql).all())).join("|");
  }

  /** Rebuilds when the seeded accounts no longer hold. */
  async heal(): Promise<void> {
    if (this.#accounts() !== this.#baseline) await this.reset();
  }
}

/** Runs the property; returns how often each status was seen, so tests can prove the input got past the gates. */
async function fuzz(pieces: Pieces, runs = RUNS): Promise<Map<number, number>> {
  await using arena = new Arena();
  await arena.reset();
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(requestFor(SEEDED, pieces, declaredRoutes(arena.t.app)), async (r) => {
      const status = await check(arena.t, r);
      seen.set(status, (seen.get(status) ?? 0) + 1);
      await arena.heal();
    }),
    { numRuns: runs, seed: SEED },
  );
  console.log(`seed ${SEED}:`, [...seen].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" "));
  return seen;
}

/** The run got past authentication (some 2xx) and hit the gate under test (`statuses`). */
function assertReached(seen: Map<number, number>, statuses: number[]): void {
  const successes = [...seen].filter(([status]) => status < 300).reduce((n, [, count]) => n + count, 0);
  assert.ok(successes >= RUNS / 50, `only ${successes} requests succeeded: the fuzzer is stuck at a gate`);
  for (const status of statuses) assert.ok(seen.has(status), `no ${status} in ${RUNS} runs: the gate went untested`);
}

Deno.test("hostile JSON and raw bodies on every route never give 500 or change data when refused", async () => {
  assertReached(await fuzz({ body: true }), [400, 415, 422]);
});

Deno.test("hostile query strings (duplicate, prototype and malformed keys) are refused cleanly", async () => {
  assertReached(await fuzz({ query: true }), [422]);
});

Deno.test("hostile path parameters (encodings, overflows, traversal) are 404/4xx, never 500", async () => {
  assertReached(await fuzz({ path: true }), [404]);
});

Deno.test("hostile headers (Authorization, Content-Type, If-Match, X-Forwarded-For, duplicates)", async () => {
  assertReached(await fuzz({ headers: true, authHeavy: true }), [401, 415]);
});

Deno.test("everything hostile at once, on every route", async () => {
  assertReached(await fuzz({ body: true, query: true, path: true, headers: true }), [401, 404]);
});

Deno.test("the fuzz checks themselves catch a 500, a non-problem error, leaks, a refused write and pollution", async () => {
  // The invariants must be able to fail: feed check() a handler that breaks each one.
  await using arena = new Arena();
  await arena.reset();
  const t = arena.t;
  const base: FuzzRequest = {
    op: "health",
    method: "GET",
    path: "/health",
    headers: [],
    body: null,
    peer: "192.0.2.1",
  };
  const broken = async (because: RegExp, response: () => Response, effect = () => {}) => {
    const original = t.app.fetch;
    t.app.fetch = () => {
      effect();
      return response();
    };
    try {
      await assert.rejects(check(t, base), because);
    } finally {
      t.app.fetch = original;
    }
  };
  const problemJSON = (body: Record<string, unknown>, status = 400) =>
    new Response(JSON.stringify({ type: "urn:x", title: "t", status, detail: "d", instance: "/", ...body }), {
      status,
      headers: { "Content-Type": "application/problem+json", "X-Request-Id": "r" },
    });
  await broken(/: 500 for GET/, () => problemJSON({ requestId: "r" }, 500));
  await broken(/expected application\/problem\+json/, () => new Response("oops", { status: 400 }));
  await broken(/stack trace leaked/, () => problemJSON({ requestId: "r", detail: "x\n    at f (y)" }));
  await broken(/file path leaked/, () => problemJSON({ requestId: "r", detail: "see file:///app/src/app.ts:1:1" }));
  await broken(/SQL or engine leaked/, () => problemJSON({ requestId: "r", detail: "SQLITE_CONSTRAINT" }));
  await broken(
    /changed the database/,
    () => problemJSON({ requestId: "r" }, 422),
    () => t.db.prepare("UPDATE products SET stock = stock + 1").run(),
  );
  await broken(/secret field/, () => Response.json({ passwordHash: "x" }));
  await broken(/prototype polluted/, () => Response.json({}), () => {
    Object.defineProperty(Object.prototype, "polluted", { value: 1, configurable: true });
  });
  delete (Object.prototype as Record<string, unknown>).polluted;
  assert.deepEqual(prototypeShape(), CLEAN_PROTOTYPES);
});
