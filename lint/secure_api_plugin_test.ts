import assert from "node:assert/strict";
import plugin, { isSecretName, isSource, projectPath, RULE_DESCRIPTIONS } from "./secure_api_plugin.ts";

/** The rule ids reported for `source` linted as `file`, in source order. */
function ids(file: string, source: string): string[] {
  return Deno.lint.runPlugin(plugin, file, source).map((d) => d.id);
}

/** The diagnostics of one rule only. */
function only(rule: string, file: string, source: string): Deno.lint.Diagnostic[] {
  return Deno.lint.runPlugin(plugin, file, source).filter((d) => d.id === `secure-api/${rule}`);
}

// --- scoping ----------------------------------------------------------------

Deno.test("projectPath() makes paths under the project root relative", () => {
  const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
  assert.equal(projectPath(`${root}src/db/database.ts`), "src/db/database.ts");
  assert.equal(projectPath("./src/a.ts"), "src/a.ts");
  assert.equal(projectPath("/elsewhere/src/a.ts"), "/elsewhere/src/a.ts");
  assert.equal(isSource("src/a.ts"), true);
  assert.equal(isSource("main.ts"), true);
  assert.equal(isSource("tests/helpers.ts"), false);
  assert.equal(isSource("/elsewhere/src/a.ts"), false);
});

// --- no-sql-string-building -----------------------------------------------------

Deno.test("no-sql-string-building reports concatenated SQL in prepare() and exec()", () => {
  const source = `
    db.prepare("SELECT * FROM users WHERE name = '" + name + "'");
    db.exec("DELETE FROM t WHERE id = " + id);
    this.#db.exec("DROP TABLE " + table);
  `;
  assert.deepEqual(ids("src/db/x.ts", source), [
    "secure-api/no-sql-string-building",
    "secure-api/no-sql-string-building",
    "secure-api/no-sql-string-building",
  ]);
  assert.match(
    only("no-sql-string-building", "src/db/x.ts", source)[0]!.message,
    /prepare\(\) is built by concatenation/,
  );
});

Deno.test("no-sql-string-building reports interpolated templates, also through a const or a conditional", () => {
  const source = `
    db.prepare(\`SELECT * FROM products WHERE name LIKE '%\${q}%'\`);
    db?.exec(\`PRAGMA busy_timeout = \${ms}\`);
    const sql = "SELECT * FROM t ORDER BY " + column;
    db.prepare(sql);
    db.exec(outer ? "BEGIN" : \`SAVEPOINT \${name}\`);
    db.prepare(\`SELECT 1\` as string);
  `;
  const found = only("no-sql-string-building", "tests/x_test.ts", source);
  assert.equal(found.length, 4);
  assert.match(found[0]!.message, /template interpolation/);
  assert.match(found[2]!.message, /concatenation \(through `sql`\)/);
});

Deno.test("no-sql-string-building accepts constant SQL and non-SQL exec()", () => {
  const source = `
    db.prepare("SELECT * FROM users WHERE name = :name");
    db.exec(\`CREATE TABLE IF NOT EXISTS t (
      id INTEGER PRIMARY KEY
    )\`);
    db.exec("PRAGMA foreign_keys = " + "ON");
    const sql = "SELECT 1";
    db.prepare(sql);
    db.exec(migration.sql);
    const match = PATTERN.exec(text);
    db.prepare(outer ? "BEGIN" : "SAVEPOINT nested");
    db.query(\`SELECT \${x}\`);
  `;
  assert.deepEqual(ids("src/db/x.ts", source), []);
});

// --- no-math-random -----------------------------------------------------------

Deno.test("no-math-random reports Math.random in src/ and main.ts, called or not", () => {
  const source = `
    const id = Math.random().toString(36);
    const pick = Math.random;
    const alsoBad = Math["random"]();
  `;
  assert.deepEqual(ids("src/crypto/tokens.ts", source), [
    "secure-api/no-math-random",
    "secure-api/no-math-random",
    "secure-api/no-math-random",
  ]);
  assert.equal(only("no-math-random", "main.ts", source).length, 3);
  assert.equal(only("no-math-random", "src/crypto/tokens_test.ts", source).length, 3);
});

Deno.test("no-math-random ignores files outside src/ and other Math functions", () => {
  assert.deepEqual(ids("tests/bench.ts", "const jitter = Math.random();"), []);
  assert.deepEqual(ids("tools/x.ts", "const jitter = Math.random();"), []);
  assert.deepEqual(
    ids("src/a.ts", "const n = Math.trunc(Math.max(1, 2)); const bytes = crypto.getRandomValues(b);"),
    [],
  );
});

// --- no-secret-equality ---------------------------------------------------------

Deno.test("no-secret-equality reports == and === on secret-named identifiers and members", () => {
  const source = `
    if (tokenHash === presented) ok();
    if (a.passwordHash == b) ok();
    if (expected !== this.#signature) fail();
    if (hmac != other) fail();
    if (digest === computeDigest(x)) ok();
    if (user.apiKey === header) ok();
    if (GENESIS_HASH === prev) ok();
    if (password === "hunter2") ok();
  `;
  const found = only("no-secret-equality", "src/auth/x.ts", source);
  assert.equal(found.length, 8);
  assert.match(found[0]!.message, /`===` on "tokenHash"/);
  assert.match(found[1]!.message, /`==` on "passwordHash"/);
  assert.match(found[2]!.message, /`!==` on "signature"/);
  // Applies everywhere: tests and tools teach by example too.
  assert.equal(only("no-secret-equality", "tests/x_test.ts", source).length, 8);
});

Deno.test("no-secret-equality accepts presence checks, typeof, and names that only start with a secret word", () => {
  const source = `
    if (tokenHash === null || tokenHash === undefined || password !== void 0) no();
    if (typeof password === "string" && token === "") no();
    if (c.var.credential?.scheme !== "basic") no();
    if (tokenType === "Bearer") no();
    if (hash.length === 32 && passwordHash.byteLength !== 43) no();
    if (hashAlgorithm === algo || tokenCount === 0 || digest === false) no();
    if (cacheKey === other) no();
    if (a === b) no();
  `;
  assert.deepEqual(ids("src/auth/x.ts", source), []);
});

Deno.test("isSecretName() judges a name by its last word", () => {
  for (
    const name of ["token", "tokenHash", "GENESIS_HASH", "password", "expectedSignature", "hmac", "apiKey", "pepper"]
  ) {
    assert.equal(isSecretName(name), true, name);
  }
  for (const name of ["tokenType", "hashAlgorithm", "passwordPolicy", "key", "cacheKey", "scheme", "", "_"]) {
    assert.equal(isSecretName(name), false, name);
  }
});

// --- route-guard ----------------------------------------------------------------

Deno.test("route-guard reports a route without any guard", () => {
  const source = `
    app.get("/products", queryParams(schema), (c) => c.json([]));
    productRoutes.delete("/:id", (c) => c.body(null, 204));
    router.post(\`/x\`, handler);
    app.get("/a", publicRoute(), h).post("/a", h);
  `;
  const found = only("route-guard", "src/routes/products.ts", source);
  assert.equal(found.length, 4);
  assert.match(found[0]!.message, /Route app\.get\("\/products"\) has no guard/);
  assert.match(found[3]!.message, /app\.post\("\/a"\) has no guard/);
});

Deno.test("route-guard reports a guard that is not first, and two guards", () => {
  const source = `
    app.post("/", jsonBody(schema), requirePermission("products:create"), handler);
    app.put("/", requireUser(), requirePermission("users:manage"), handler);
  `;
  const found = only("route-guard", "src/routes/x.ts", source);
  assert.equal(found.length, 2);
  assert.match(found[0]!.message, /runs a handler before its guard/);
  assert.match(found[1]!.message, /has 2 guards/);
});

Deno.test("route-guard accepts guarded routes and ignores non-route calls and tests", () => {
  const source = `
    app.get("/", requirePermission("products:read"), queryParams(q), (c) => c.json([]));
    app.post("/login", requireUser(), (c) => c.json({}));
    app.get("/health", publicRoute(), (c) => c.json({ status: "ok" }));
    app.get("/x", guards.requirePermission("audit:read"), h);
    app.use(requestId());
    app.route("/products", productRoutes(deps));
    map.get("key");
    headers.delete("x");
    app.get("/only-a-path");
  `;
  assert.deepEqual(ids("src/routes/x.ts", source), []);
  const unguarded = `app.get("/", (c) => c.text("hi"));`;
  assert.deepEqual(ids("src/middleware/rate_limit_test.ts", unguarded), []);
  assert.deepEqual(ids("tests/x_test.ts", unguarded), []);
});

// --- no-console -----------------------------------------------------------------

Deno.test("no-console reports console.* in src/ and main.ts", () => {
  const source = `
    console.log("user", user);
    console.debug(token);
    console.info("ready");
    promise.catch(console.error);
  `;
  assert.deepEqual(ids("src/routes/x.ts", source), [
    "secure-api/no-console",
    "secure-api/no-console",
    "secure-api/no-console",
    "secure-api/no-console",
  ]);
  assert.match(only("no-console", "main.ts", source)[0]!.message, /console\.log bypasses the logger/);
});

Deno.test("no-console leaves the admin CLIs, tests and tools alone", () => {
  const source = `console.log("done");`;
  assert.deepEqual(ids("src/cli/admin.ts", source), []);
  assert.deepEqual(ids("tests/helpers.ts", source), []);
  assert.deepEqual(ids("tools/sast.ts", source), []);
  assert.deepEqual(ids("src/a.ts", `log.info("ready"); const consoleLog = 1;`), []);
});

// --- the plugin on itself --------------------------------------------------------

Deno.test("plugin registers exactly the documented rules", () => {
  assert.equal(plugin.name, "secure-api");
  assert.deepEqual(Object.keys(plugin.rules).sort(), [
    "constant-log-template",
    "no-console",
    "no-math-random",
    "no-secret-equality",
    "no-sql-string-building",
    "route-guard",
  ]);
});

Deno.test("RULE_DESCRIPTIONS describes every rule and nothing else", () => {
  assert.deepEqual(
    Object.keys(RULE_DESCRIPTIONS).sort(),
    Object.keys(plugin.rules).map((rule) => `secure-api/${rule}`).sort(),
  );
});

// --- constant-log-template ----------------------------------------------------

Deno.test("constant-log-template reports a log message built at run time, in src/ only", () => {
  const source = `
    log.info("listening on {url}", { url });
    this.#logger?.warn("redis unavailable: {error}", { error });
    deps.rateLimitLogger.error(\`fixed template\`, {});
    logger.info(\`user \${name} logged in\`);
    log.warning("failed for " + username);
    this.#logger.error(message, { error });
    audit.info(\`not a logger: \${x}\`);
    map.get(key);
  `;
  const found = only("constant-log-template", "src/services/x.ts", source);
  assert.deepEqual(found.map((d) => source.slice(d.range[0], d.range[1])), [
    "`user ${name} logged in`",
    '"failed for " + username',
    "message",
  ]);
  assert.match(found[0]!.message, /must be a constant string/);
  assert.deepEqual(only("constant-log-template", "tests/x_test.ts", source), []);
});
