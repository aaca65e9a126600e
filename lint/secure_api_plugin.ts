/**
 * Project lint rules for secure-api, run by `deno lint` (registered in
 * `deno.json` under `lint.plugins`). Each rule encodes a danger specific to
 * this codebase that the recommended rules cannot see:
 *
 * - `secure-api/no-sql-string-building` — SQL handed to `prepare`/`exec` must
 *   be a constant; values go in `:named` parameters (CWE-89, ASVS 5.0 1.2.4).
 * - `secure-api/no-math-random` — `Math.random` is not a CSPRNG; tokens, salts
 *   and ids come from `crypto.getRandomValues` (CWE-338, ASVS 5.0 11.5.1).
 * - `secure-api/no-secret-equality` — `==`/`===` on a secret, hash or token
 *   returns sooner the earlier the bytes differ; use `timingSafeEqual`
 *   (CWE-208, ASVS 5.0 11.2.4).
 * - `secure-api/route-guard` — every Hono route names exactly one guard
 *   (`requirePermission`, `requireUser` or `publicRoute`) as its first handler,
 *   so nothing is reachable by omission (OWASP API5:2023, ASVS 5.0 8.2.1).
 * - `secure-api/no-console` — production code logs through the logger, which
 *   redacts and structures; `console.*` bypasses both (CWE-532, ASVS 5.0 16.2.5).
 *
 * Rules that the issue scopes to production code look at the file name:
 * "source" means `src/**` and `main.ts` relative to the project root.
 *
 * @module
 */

/** The project root: this file lives in `<root>/lint/`. */
const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** `filename` relative to the project root, with forward slashes. */
export function projectPath(filename: string): string {
  const path = filename.replaceAll("\\", "/");
  if (path.startsWith(ROOT)) return path.slice(ROOT.length);
  return path.replace(/^\.\//, "");
}

/** True for application source: `src/**` and the entry point `main.ts`. */
export function isSource(filename: string): boolean {
  const path = projectPath(filename);
  return path.startsWith("src/") || path === "main.ts";
}

function isTest(filename: string): boolean {
  return /_test\.[cm]?[jt]sx?$/.test(filename);
}

type Node = Deno.lint.Node;

/** Strips TypeScript-only wrappers (`x as T`, `x!`, `x satisfies T`) and optional chains. */
function unwrap(node: Node): Node {
  let current = node;
  for (;;) {
    switch (current.type) {
      case "TSAsExpression":
      case "TSNonNullExpression":
      case "TSSatisfiesExpression":
      case "TSTypeAssertion":
      case "ChainExpression":
        current = current.expression;
        break;
      default:
        return current;
    }
  }
}

/** The name of a non-computed property, or of a computed one given as a string literal. */
function propertyName(node: Deno.lint.MemberExpression): string | undefined {
  const property = node.property;
  if (!node.computed && (property.type === "Identifier" || property.type === "PrivateIdentifier")) {
    return property.name;
  }
  if (node.computed && property.type === "Literal" && typeof property.value === "string") return property.value;
  return undefined;
}

// ---------------------------------------------------------------------------
// no-sql-string-building

/** True when `node` is a string fixed at compile time: a literal, a template without `${}`, or `+` of those. */
function isConstantString(node: Node): boolean {
  const n = unwrap(node);
  if (n.type === "Literal") return typeof n.value === "string";
  if (n.type === "TemplateLiteral") return n.expressions.length === 0;
  if (n.type === "BinaryExpression" && n.operator === "+") return isConstantString(n.left) && isConstantString(n.right);
  return false;
}

/** Why `node` is SQL built at run time, or undefined when it is not. */
function dynamicSQL(node: Node): string | undefined {
  const n = unwrap(node);
  if (n.type === "BinaryExpression" && n.operator === "+" && !isConstantString(n)) return "concatenation";
  if (n.type === "TemplateLiteral" && n.expressions.length > 0) return "template interpolation";
  if (n.type === "ConditionalExpression") return dynamicSQL(n.consequent) ?? dynamicSQL(n.alternate);
  if (n.type === "LogicalExpression") return dynamicSQL(n.left) ?? dynamicSQL(n.right);
  return undefined;
}

/**
 * The initialiser of the `const` named `name` declared directly in a block
 * enclosing `from` (one hop of data flow: `const sql = "..." + x; db.exec(sql)`).
 */
function constInitializer(ctx: Deno.lint.RuleContext, from: Node, name: string): Node | undefined {
  const ancestors = ctx.sourceCode.getAncestors(from);
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const scope = ancestors[i]!;
    if (scope.type !== "BlockStatement" && scope.type !== "Program") continue;
    for (const statement of scope.body) {
      const declaration = statement.type === "ExportNamedDeclaration" ? statement.declaration : statement;
      if (declaration?.type !== "VariableDeclaration" || declaration.kind !== "const") continue;
      for (const declarator of declaration.declarations) {
        if (declarator.id.type === "Identifier" && declarator.id.name === name && declarator.init) {
          return declarator.init;
        }
      }
    }
  }
  return undefined;
}

const noSQLStringBuilding: Deno.lint.Rule = {
  create(ctx) {
    return {
      CallExpression(node) {
        const callee = unwrap(node.callee);
        if (callee.type !== "MemberExpression") return;
        const method = propertyName(callee);
        if (method !== "prepare" && method !== "exec") return;
        const first = node.arguments[0];
        if (!first || first.type === "SpreadElement") return;
        let how = dynamicSQL(first);
        const argument = unwrap(first);
        if (!how && argument.type === "Identifier") {
          const init = constInitializer(ctx, node, argument.name);
          const viaConst = init ? dynamicSQL(init) : undefined;
          if (viaConst) how = `${viaConst} (through \`${argument.name}\`)`;
        }
        if (!how) return;
        ctx.report({
          node: first,
          message: `SQL passed to ${method}() is built by ${how}.`,
          hint: "Keep the SQL a constant string and pass values as :named parameters (Statement.get/all/run).",
        });
      },
    };
  },
};

// ---------------------------------------------------------------------------
// no-math-random

const noMathRandom: Deno.lint.Rule = {
  create(ctx) {
    if (!isSource(ctx.filename)) return {};
    return {
      MemberExpression(node) {
        const object = unwrap(node.object);
        if (object.type !== "Identifier" || object.name !== "Math" || propertyName(node) !== "random") return;
        ctx.report({
          node,
          message: "Math.random() is predictable and must not be used in src/.",
          hint: "Use crypto.getRandomValues() or crypto.randomUUID() (src/crypto/tokens.ts).",
        });
      },
    };
  },
};

// ---------------------------------------------------------------------------
// no-secret-equality

/** Last words that make a name a secret: `tokenHash`, `expectedSignature`, `GENESIS_HASH`, `hmac`. */
const SECRET_WORDS = new Set([
  "secret",
  "secrets",
  "hash",
  "hashes",
  "token",
  "tokens",
  "password",
  "passwords",
  "passwd",
  "passphrase",
  "signature",
  "hmac",
  "digest",
  "pepper",
  "apikey",
]);
/** Words that make a following `key` a secret: `apiKey`, `secretKey`, `privateKey`, `hmacKey`. */
const KEY_PREFIXES = new Set(["api", "secret", "private", "signing", "hmac", "session"]);

/** `tokenHash` → ["token", "hash"]; `GENESIS_HASH` → ["genesis", "hash"]. */
function words(name: string): string[] {
  return (name.match(/[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])/g) ?? []).map((w) => w.toLowerCase());
}

/** True when `name` names a secret, judged by its last word (`tokenType` is not one, `typeHash` is). */
export function isSecretName(name: string): boolean {
  const parts = words(name);
  const last = parts[parts.length - 1];
  if (last === undefined) return false;
  if (SECRET_WORDS.has(last)) return true;
  const before = parts[parts.length - 2];
  return last === "key" && before !== undefined && KEY_PREFIXES.has(before);
}

/** The secret-looking name `node` reads, if it is an identifier or a member access. */
function secretName(node: Node): string | undefined {
  const n = unwrap(node);
  let name: string | undefined;
  if (n.type === "Identifier" || n.type === "PrivateIdentifier") name = n.name;
  else if (n.type === "MemberExpression") name = propertyName(n);
  return name !== undefined && isSecretName(name) ? name : undefined;
}

/**
 * True for operands whose comparison reveals nothing secret: `null`,
 * `undefined`, `void 0`, booleans, numbers and the empty string (presence
 * checks). A non-empty string literal is still reported: comparing a secret
 * with one is both timing-unsafe and a hard-coded secret. (`typeof token ===
 * "string"` needs no exemption: neither operand is a name.)
 */
function isPublicOperand(node: Node): boolean {
  const n = unwrap(node);
  if (n.type === "Literal") return n.value === null || typeof n.value !== "string" || n.value === "";
  if (n.type === "Identifier") return n.name === "undefined";
  if (n.type === "UnaryExpression") return n.operator === "void";
  if (n.type === "TemplateLiteral") return n.expressions.length === 0 && n.quasis.every((q) => q.cooked === "");
  return false;
}

const EQUALITY = new Set(["==", "===", "!=", "!=="]);

const noSecretEquality: Deno.lint.Rule = {
  create(ctx) {
    return {
      BinaryExpression(node) {
        if (!EQUALITY.has(node.operator)) return;
        if (isPublicOperand(node.left) || isPublicOperand(node.right)) return;
        const name = secretName(node.left) ?? secretName(node.right);
        if (name === undefined) return;
        ctx.report({
          node,
          message: `\`${node.operator}\` on "${name}" compares a secret in variable time.`,
          hint: "Compare bytes with timingSafeEqual() from src/crypto/timing_safe.ts. If the value is not " +
            "secret, say why in `// deno-lint-ignore secure-api/no-secret-equality -- <reason>`.",
        });
      },
    };
  },
};

// ---------------------------------------------------------------------------
// route-guard

const ROUTE_METHODS = new Set(["get", "post", "put", "delete", "patch", "all", "options"]);
const GUARDS = new Set(["requirePermission", "requireUser", "publicRoute"]);
/** Receivers treated as Hono apps: `app`, `router`, `productRoutes`, `adminRouter`. */
const ROUTER_NAME = /^(app|router)$|(Routes|Router)$/;

/** The identifier at the root of `app.get(...).post(...)`. */
function receiverName(node: Node): string | undefined {
  const n = unwrap(node);
  if (n.type === "Identifier") return n.name;
  if (n.type === "CallExpression") {
    const callee = unwrap(n.callee);
    if (callee.type === "MemberExpression") return receiverName(callee.object);
  }
  return undefined;
}

function isGuardCall(node: Node): boolean {
  const n = unwrap(node);
  if (n.type !== "CallExpression") return false;
  const callee = unwrap(n.callee);
  if (callee.type === "Identifier") return GUARDS.has(callee.name);
  if (callee.type === "MemberExpression") return GUARDS.has(propertyName(callee) ?? "");
  return false;
}

const routeGuard: Deno.lint.Rule = {
  create(ctx) {
    if (!isSource(ctx.filename) || isTest(ctx.filename)) return {};
    return {
      CallExpression(node) {
        const callee = unwrap(node.callee);
        if (callee.type !== "MemberExpression") return;
        const method = propertyName(callee);
        if (method === undefined || !ROUTE_METHODS.has(method)) return;
        const receiver = receiverName(callee.object);
        if (receiver === undefined || !ROUTER_NAME.test(receiver)) return;
        const [first, ...rest] = node.arguments;
        const hasPath = first !== undefined && (
          (first.type === "Literal" && typeof first.value === "string") || first.type === "TemplateLiteral"
        );
        const handlers = hasPath ? rest : node.arguments;
        if (handlers.length === 0) return;
        const route = `${receiver}.${method}(${hasPath ? ctx.sourceCode.getText(first) : ""})`;
        const guards = handlers.filter(isGuardCall).length;
        if (guards === 0) {
          ctx.report({
            node,
            message: `Route ${route} has no guard.`,
            hint: "Put requirePermission(...), requireUser() or publicRoute() first in its handler list.",
          });
        } else if (guards > 1) {
          ctx.report({
            node,
            message: `Route ${route} has ${guards} guards; it must have exactly one.`,
            hint: "Keep the one guard that states the route's access rule.",
          });
        } else if (!isGuardCall(handlers[0]!)) {
          ctx.report({
            node,
            message: `Route ${route} runs a handler before its guard.`,
            hint: "Move the guard first, so validators and handlers never run for a caller it refuses.",
          });
        }
      },
    };
  },
};

// ---------------------------------------------------------------------------
// no-console

const noConsole: Deno.lint.Rule = {
  create(ctx) {
    // The admin CLIs print their results: stdout is their interface, not a log.
    if (!isSource(ctx.filename) || projectPath(ctx.filename).startsWith("src/cli/")) return {};
    return {
      MemberExpression(node) {
        const object = unwrap(node.object);
        if (object.type !== "Identifier" || object.name !== "console") return;
        ctx.report({
          node,
          message: `console.${propertyName(node) ?? "<computed>"} bypasses the logger.`,
          hint: 'Use getLogger(["secure-api", ...]) from @logtape/logtape: it redacts secrets and writes JSON lines.',
        });
      },
    };
  },
};

// ---------------------------------------------------------------------------
// constant-log-template

/** LogTape's level methods. */
const LOG_METHODS = new Set(["trace", "debug", "info", "warn", "warning", "error", "fatal"]);

/** The name a callee's object goes by: `log`, `logger`, `this.#logger`, `deps.rateLimitLogger`. */
function objectName(node: Node): string | undefined {
  const n = unwrap(node);
  if (n.type === "Identifier") return n.name;
  if (n.type === "MemberExpression") return propertyName(n);
  return undefined;
}

/**
 * A log message is a LogTape template: `{name}` placeholders filled from the
 * properties object, which is where untrusted values belong. A template
 * built at run time would let a value's own `{…}` read other properties, and
 * would make every message a different one to the log's readers (ASVS 5.0
 * 1.3.10, format strings). So the first argument of a level method on a
 * logger must be a constant string.
 */
const constantLogTemplate: Deno.lint.Rule = {
  create(ctx) {
    if (!isSource(ctx.filename)) return {};
    return {
      CallExpression(node) {
        const callee = unwrap(node.callee);
        if (callee.type !== "MemberExpression" || !LOG_METHODS.has(propertyName(callee) ?? "")) return;
        if (!/log(ger)?$/i.test(objectName(callee.object) ?? "")) return;
        const [template] = node.arguments;
        if (template === undefined || isConstantString(template)) return;
        ctx.report({
          node: template,
          message: "A log message template must be a constant string.",
          hint: 'Put values in the properties: logger.info("user {id} did {what}", { id, what }).',
        });
      },
    };
  },
};

/** What each rule reports, by diagnostic id (SARIF rule metadata in tools/sast.ts). */
export const RULE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "secure-api/no-sql-string-building":
    "SQL passed to prepare()/exec() built by concatenation or template interpolation",
  "secure-api/no-math-random": "Math.random in application source (not a CSPRNG)",
  "secure-api/no-secret-equality": "==/=== on a value named like a secret, hash or token (timing oracle)",
  "secure-api/route-guard": "Hono route without exactly one guard (requirePermission/requireUser/publicRoute) first",
  "secure-api/no-console": "console.* in application source instead of the redacting logger",
  "secure-api/constant-log-template": "A LogTape message template built at run time (format-string injection)",
};

/** The `secure-api` lint plugin. */
const plugin: Deno.lint.Plugin = {
  name: "secure-api",
  rules: {
    "no-sql-string-building": noSQLStringBuilding,
    "no-math-random": noMathRandom,
    "no-secret-equality": noSecretEquality,
    "route-guard": routeGuard,
    "no-console": noConsole,
    "constant-log-template": constantLogTemplate,
  },
};

export default plugin;
