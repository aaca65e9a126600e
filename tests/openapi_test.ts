/**
 * The OpenAPI document against the router and against real responses
 * (OWASP API9:2023, improper inventory management): a route the document
 * does not describe, a documented route that does not exist, a guard that
 * differs from the documented security, or a response that does not match
 * its documented status, schema or headers fails here.
 */
import assert from "node:assert/strict";
import type { GuardInfo } from "../src/middleware/require_permission.ts";
import { guardOf } from "../src/middleware/require_permission.ts";
import { type JSONObject, openAPIPath } from "../src/openapi.ts";
import { declaredRoutes, type RouteDefinition } from "../src/routes/route.ts";
import { openAPIBody, problemBody } from "../src/schemas/responses.ts";
import { basicAuth, createTestApp, problem, type TestApp, type TestUser } from "./helpers.ts";

type Operation = JSONObject & {
  security: JSONObject[];
  responses: Record<string, JSONObject>;
  "x-permission"?: string;
};

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

/** `"GET /products/{id}"` → the documented operation. */
function documentedOperations(doc: JSONObject): Map<string, Operation> {
  const out = new Map<string, Operation>();
  for (const [path, item] of Object.entries(doc.paths as Record<string, JSONObject>)) {
    for (const method of METHODS) {
      if (item[method]) out.set(`${method.toUpperCase()} ${path}`, item[method] as Operation);
    }
  }
  return out;
}

/** `"GET /products/{id}"` → the guards on that route (middleware `ALL /*` excluded). */
function routedOperations(t: TestApp): Map<string, GuardInfo[]> {
  const out = new Map<string, GuardInfo[]>();
  for (const route of t.app.routes) {
    if (route.method === "ALL" && route.path === "/*") continue;
    const key = `${route.method} ${openAPIPath(route.path)}`;
    const guards = out.get(key) ?? [];
    const guard = guardOf(route.handler);
    if (guard) guards.push(guard);
    out.set(key, guards);
  }
  return out;
}

/** The document the app serves at `GET /openapi.json`. */
async function servedDocument(t: TestApp): Promise<JSONObject> {
  const res = await t.request("/openapi.json");
  assert.equal(res.status, 200);
  return await res.json();
}

/** Follows a local `$ref`. */
function resolve(doc: JSONObject, node: JSONObject): JSONObject {
  const pointer = node.$ref;
  if (typeof pointer !== "string") return node;
  assert.ok(pointer.startsWith("#/"), `non-local $ref ${pointer}`);
  let target: unknown = doc;
  for (const part of pointer.slice(2).split("/")) target = (target as JSONObject | undefined)?.[part];
  assert.ok(target && typeof target === "object", `$ref ${pointer} does not resolve`);
  return target as JSONObject;
}

Deno.test("the OpenAPI document describes exactly the routes the router serves", async () => {
  await using t = await createTestApp();
  const documented = documentedOperations(await servedDocument(t));
  const routed = routedOperations(t);
  const undocumented = [...routed.keys()].filter((key) => !documented.has(key));
  const phantom = [...documented.keys()].filter((key) => !routed.has(key));
  assert.deepEqual(undocumented, [], `routes missing from the OpenAPI document: ${undocumented.join(", ")}`);
  assert.deepEqual(phantom, [], `documented operations that no route serves: ${phantom.join(", ")}`);
  assert.ok(routed.size >= 26, `expected the full route set, found ${routed.size}`);
});

Deno.test("each documented operation's security and x-permission match the route's guard", async () => {
  await using t = await createTestApp();
  const documented = documentedOperations(await servedDocument(t));
  for (const [key, guards] of routedOperations(t)) {
    assert.equal(guards.length, 1, `${key} must have exactly one guard, has ${guards.length}`);
    const guard = guards[0]!;
    const op = documented.get(key);
    assert.ok(op, `${key} is not documented`);
    if (guard.kind === "public") {
      assert.deepEqual(op.security, [], `${key} is public: its security must be []`);
      assert.equal(op["x-permission"], undefined, `${key} is public but documents a permission`);
      continue;
    }
    assert.ok(op.security.length > 0, `${key} needs credentials but is documented as public`);
    for (const requirement of op.security) {
      const schemes = Object.keys(requirement);
      assert.equal(schemes.length, 1);
      assert.ok(["basicAuth", "bearerAuth"].includes(schemes[0]!), `${key}: unknown scheme ${schemes[0]}`);
    }
    if (guard.kind === "authenticated") {
      assert.equal(op["x-permission"], undefined, `${key} needs only a user but documents a permission`);
    } else {
      assert.equal(op["x-permission"], guard.permission, `${key}: documented permission ≠ guard`);
      assert.ok(op.responses["403"], `${key}: a permission route must document 403`);
    }
    assert.ok(op.responses["401"], `${key}: a protected route must document 401`);
  }
});

Deno.test("the OpenAPI document is well formed (refs resolve, path parameters declared, ids unique)", async () => {
  await using t = await createTestApp();
  const doc = await servedDocument(t);
  assert.equal(doc.openapi, "3.1.0");
  assert.ok(openAPIBody.safeParse(doc).success);
  const refs: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      const ref = (node as JSONObject).$ref;
      if (typeof ref === "string") refs.push(ref);
      Object.values(node).forEach(walk);
    }
  };
  walk(doc);
  assert.ok(refs.length > 50);
  for (const ref of refs) resolve(doc, { $ref: ref });

  const ids = new Set<string>();
  for (const [key, op] of documentedOperations(doc)) {
    assert.ok(!ids.has(op.operationId as string), `duplicate operationId ${op.operationId}`);
    ids.add(op.operationId as string);
    const declared = ((op.parameters ?? []) as JSONObject[]).map((p) => resolve(doc, p))
      .filter((p) => p.in === "path").map((p) => p.name);
    const inPath = [...key.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    assert.deepEqual(declared, inPath, `${key}: path parameters`);
    for (const [status, raw] of Object.entries(op.responses)) {
      const response = resolve(doc, raw);
      if (Number(status) >= 400) {
        assert.ok(
          (response.content as JSONObject)["application/problem+json"],
          `${key} ${status} must be problem+json`,
        );
      }
      assert.ok((response.headers as JSONObject)["X-Request-Id"], `${key} ${status} lacks X-Request-Id`);
    }
  }
  // The request schemas are the validators' own: strict objects reject unknown fields.
  const productInput = (doc.components as { schemas: Record<string, JSONObject> }).schemas.ProductInput!;
  assert.equal(productInput.additionalProperties, false);
  assert.deepEqual(productInput.required, ["name", "priceCents", "stock"]);
});

Deno.test("GET /openapi.json serves the generated document publicly, with the security headers", async () => {
  await using t = await createTestApp();
  const first = await t.request("/openapi.json");
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("Content-Type"), "application/json");
  assert.equal(first.headers.get("Strict-Transport-Security"), "max-age=63072000; includeSubDomains");
  assert.equal(first.headers.get("Cache-Control"), "no-store");
  const text = await first.text();
  const document = JSON.parse(text);
  assert.ok(openAPIBody.safeParse(document).success);
  assert.equal(Object.keys(document.paths).length, 29, "every path of the API");
  assert.deepEqual(document.servers, [{ url: "/", description: "This server" }], "relative: right behind any proxy");
  const second = await t.request("/openapi.json");
  assert.equal(await second.text(), text, "served from the cache, identical");
});

/** Happy-path requests, one scenario per operation; each returns the responses to check. */
type Scenario = (t: TestApp, admin: TestUser) => Promise<Response[]>;

const json = { "Content-Type": "application/json" };
const strongPassword = () => `pw-${crypto.randomUUID()}`;

async function productOf(t: TestApp, admin: TestUser): Promise<{ id: number; version: number }> {
  const res = await t.json("POST", "/products", { name: "Lamp", priceCents: 1999, stock: 3 }, {
    headers: { Authorization: admin.basic },
  });
  assert.equal(res.status, 201);
  return await res.json();
}

async function bearer(t: TestApp, user: TestUser): Promise<string> {
  const res = await t.request("/auth/login", { method: "POST", headers: { Authorization: user.basic } });
  assert.equal(res.status, 200);
  return `Bearer ${(await res.json()).token}`;
}

const SCENARIOS: Record<string, Scenario> = {
  health: async (t) => [await t.request("/health")],
  ready: async (t) => [await t.request("/health/ready")],
  metrics: async (t, admin) => [await t.request("/metrics", { headers: { Authorization: admin.basic } })],
  docs: async (t) => [await t.request("/docs")],
  "docs:swagger-ui-bundle.js": async (t) => [await t.request("/docs/swagger-ui-bundle.js")],
  "docs:init.js": async (t) => [await t.request("/docs/init.js")],
  "docs:swagger-ui.css": async (t) => [await t.request("/docs/swagger-ui.css")],
  openapi: async (t) => [await t.request("/openapi.json")],
  register: async (t) => [await t.json("POST", "/auth/register", { username: "newbie", password: strongPassword() })],
  login: async (
    t,
    admin,
  ) => [await t.request("/auth/login", { method: "POST", headers: { Authorization: admin.basic } })],
  logout: async (t, admin) => [
    await t.request("/auth/logout", { method: "POST", headers: { Authorization: await bearer(t, admin) } }),
  ],
  me: async (t, admin) => [await t.request("/auth/me", { headers: { Authorization: admin.basic } })],
  listSessions: async (
    t,
    admin,
  ) => [await t.request("/auth/sessions", { headers: { Authorization: await bearer(t, admin) } })],
  endSession: async (t, admin) => {
    const authorization = await bearer(t, admin);
    const list = await (await t.request("/auth/sessions", { headers: { Authorization: authorization } })).json();
    const path = `/auth/sessions/${list.items[0].id}`;
    return [await t.request(path, { method: "DELETE", headers: { Authorization: admin.basic } })];
  },
  endAllSessions: async (t, admin) => {
    await bearer(t, admin);
    return [await t.request("/auth/sessions", { method: "DELETE", headers: { Authorization: admin.basic } })];
  },
  endUserSessions: async (t, admin) => {
    const user = await t.user("sessioner");
    await bearer(t, user);
    return [
      await t.request(`/users/${user.id}/sessions`, { method: "DELETE", headers: { Authorization: admin.basic } }),
    ];
  },
  endEverySession: async (t, admin) => {
    await bearer(t, await t.user("everyone"));
    return [await t.request("/sessions", { method: "DELETE", headers: { Authorization: admin.basic } })];
  },
  changePassword: async (t) => {
    const user = await t.user("changer");
    return [
      await t.json("PUT", "/auth/password", { currentPassword: user.password, newPassword: strongPassword() }, {
        headers: { Authorization: user.basic },
      }),
    ];
  },
  listProducts: async (t, admin) => {
    await productOf(t, admin);
    return [await t.request("/products?limit=1", { headers: { Authorization: admin.basic } })];
  },
  getProduct: async (t, admin) => {
    const { id } = await productOf(t, admin);
    const headers = { Authorization: admin.basic };
    const read = await t.request(`/products/${id}`, { headers });
    const etag = read.headers.get("ETag")!;
    return [read, await t.request(`/products/${id}`, { headers: { ...headers, "If-None-Match": etag } })];
  },
  createProduct: async (t, admin) => [
    await t.json("POST", "/products", { name: "Desk", priceCents: 0, stock: 0 }, {
      headers: { Authorization: admin.basic },
    }),
  ],
  replaceProduct: async (t, admin) => {
    const { id, version } = await productOf(t, admin);
    return [
      await t.json("PUT", `/products/${id}`, { name: "Desk", description: "oak", priceCents: 5, stock: 1 }, {
        headers: { Authorization: admin.basic, "If-Match": `"${version}"` },
      }),
    ];
  },
  deleteProduct: async (t, admin) => {
    const { id } = await productOf(t, admin);
    return [await t.request(`/products/${id}`, { method: "DELETE", headers: { Authorization: admin.basic } })];
  },
  listUsers: async (t, admin) => [await t.request("/users", { headers: { Authorization: admin.basic } })],
  getUser: async (t, admin) => [await t.request(`/users/${admin.id}`, { headers: { Authorization: admin.basic } })],
  setUserRoles: async (t, admin) => {
    const user = await t.user("promoted");
    return [
      await t.json("PUT", `/users/${user.id}/roles`, { roles: ["editor"] }, {
        headers: { Authorization: admin.basic },
      }),
    ];
  },
  disableUser: async (t, admin) => {
    const user = await t.user("sleeper");
    return [await t.request(`/users/${user.id}/disable`, { method: "POST", headers: { Authorization: admin.basic } })];
  },
  enableUser: async (t, admin) => {
    const user = await t.user("waker");
    return [await t.request(`/users/${user.id}/enable`, { method: "POST", headers: { Authorization: admin.basic } })];
  },
  deleteUser: async (t, admin) => {
    const user = await t.user("leaver");
    return [await t.request(`/users/${user.id}`, { method: "DELETE", headers: { Authorization: admin.basic } })];
  },
  listPermissions: async (t, admin) => [await t.request("/permissions", { headers: { Authorization: admin.basic } })],
  listRoles: async (t, admin) => [await t.request("/roles", { headers: { Authorization: admin.basic } })],
  getRole: async (t, admin) => [await t.request("/roles/viewer", { headers: { Authorization: admin.basic } })],
  createRole: async (t, admin) => [
    await t.json("POST", "/roles", { name: "auditor", permissions: ["audit:read"] }, {
      headers: { Authorization: admin.basic },
    }),
  ],
  updateRole: async (t, admin) => {
    await t.json("POST", "/roles", { name: "helper", permissions: [] }, { headers: { Authorization: admin.basic } });
    return [
      await t.json("PUT", "/roles/helper", { description: "helps", permissions: ["products:read"] }, {
        headers: { Authorization: admin.basic },
      }),
    ];
  },
  deleteRole: async (t, admin) => {
    await t.json("POST", "/roles", { name: "temp", permissions: [] }, { headers: { Authorization: admin.basic } });
    return [await t.request("/roles/temp", { method: "DELETE", headers: { Authorization: admin.basic } })];
  },
  listAudit: async (t, admin) => [await t.request("/audit?limit=5", { headers: { Authorization: admin.basic } })],
  verifyAudit: async (t, admin) => [await t.request("/audit/verify", { headers: { Authorization: admin.basic } })],
};

/** Checks one real response against the documented operation. */
async function conforms(doc: JSONObject, spec: RouteDefinition, op: Operation, res: Response): Promise<void> {
  const where = `${spec.method} ${spec.path} → ${res.status}`;
  const documented = op.responses[String(res.status)];
  assert.ok(documented, `${where} is not a documented status: ${await res.clone().text()}`);
  const response = resolve(doc, documented);
  for (const name of Object.keys(response.headers as JSONObject)) {
    if (name === "Retry-After" && res.status !== 429 && res.status !== 503) continue;
    assert.ok(res.headers.has(name), `${where} lacks documented header ${name}`);
  }
  const content = response.content as JSONObject | undefined;
  if (!content) {
    assert.equal(await res.text(), "", `${where} documents no body`);
    return;
  }
  const [mediaType] = Object.keys(content);
  assert.equal(res.headers.get("Content-Type")?.split(";")[0], mediaType, where);
  const body = /[/+]json$/.test(mediaType!) ? await res.json() : await res.text();
  const schema = res.status >= 400 ? problemBody : spec.responses[res.status]!.body!.schema;
  const parsed = schema.safeParse(body);
  assert.ok(parsed.success, `${where}: body does not match its schema: ${JSON.stringify(parsed.error?.issues)}`);
}

Deno.test("real responses match the documented status, headers and body schema", async () => {
  let doc: JSONObject, routes: RouteDefinition[];
  {
    await using first = await createTestApp();
    doc = await servedDocument(first);
    routes = declaredRoutes(first.app);
  }
  const documented = documentedOperations(doc);
  const missing = routes.filter((spec) => !SCENARIOS[spec.operationId]).map((spec) => spec.operationId);
  assert.deepEqual(missing, [], "every documented operation needs a scenario here");
  for (const spec of routes) {
    await using t = await createTestApp();
    const admin = await t.user("root", ["admin"]);
    const op = documented.get(`${spec.method} ${openAPIPath(spec.path)}`)!;
    const responses = await SCENARIOS[spec.operationId]!(t, admin);
    assert.ok(responses.every((res) => res.status < 400), `${spec.operationId}: the scenario must succeed`);
    for (const res of responses) await conforms(doc, spec, op, res);
  }
});

Deno.test("the implied errors (401, 403, 415, 404, 422) are real and documented", async () => {
  await using t = await createTestApp();
  const doc = await servedDocument(t);
  const documented = documentedOperations(doc);
  const OPERATIONS = declaredRoutes(t.app);
  const nobody = await t.user("nobody", []);
  const fill = (path: string) => path.replace(":id", "999999").replace(":name", "no-such-role");
  for (const spec of OPERATIONS) {
    const op = documented.get(`${spec.method} ${openAPIPath(spec.path)}`)!;
    // Each operation from its own address, so the failed-login throttle never kicks in.
    const peer = `198.51.100.${OPERATIONS.indexOf(spec) + 1}`;
    const send = (headers: Record<string, string>) =>
      t.request(fill(spec.path), { method: spec.method, headers, peer });
    if (spec.guard.kind !== "public") {
      const anonymous = await send({});
      assert.equal(anonymous.status, 401, `${spec.operationId} anonymous`);
      assert.ok(anonymous.headers.get("WWW-Authenticate")?.startsWith("Basic "));
      await conforms(doc, spec, op, anonymous);
    }
    if (spec.guard.kind === "permission") {
      const forbidden = await send({ Authorization: nobody.basic });
      assert.equal(forbidden.status, 403, `${spec.operationId} without ${spec.guard.permission}`);
      await conforms(doc, spec, op, forbidden);
    }
    const wrongPassword = await send({ Authorization: basicAuth("nobody", "not-the-password") });
    assert.equal(wrongPassword.status, 401, `${spec.operationId}: a wrong password is refused even on public routes`);
    await conforms(doc, spec, op, wrongPassword);
  }
  const admin = await t.user("root", ["admin"]);
  for (const spec of OPERATIONS) {
    const op = documented.get(`${spec.method} ${openAPIPath(spec.path)}`)!;
    const auth = spec.operationId === "logout" ? await bearer(t, admin) : admin.basic;
    if (spec.body) {
      const notJSON = await t.request(fill(spec.path), {
        method: spec.method,
        headers: { Authorization: auth, "Content-Type": "text/plain" },
        body: "{}",
      });
      // The validator runs before the handler, so the body is refused before the id is looked up.
      assert.equal(notJSON.status, 415, `${spec.operationId} text/plain`);
      await problem(notJSON.clone());
      await conforms(doc, spec, op, notJSON);
      const malformed = await t.request(spec.path.replace(":name", "viewer").replace(":id", String(admin.id)), {
        method: spec.method,
        headers: { Authorization: auth, ...json },
        body: "{",
      });
      assert.equal(malformed.status, 400, `${spec.operationId} malformed JSON`);
      await conforms(doc, spec, op, malformed);
    }
    if (spec.query) {
      const invalid = await t.request(`${spec.path}?limit=0`, { headers: { Authorization: auth } });
      assert.equal(invalid.status, 422, `${spec.operationId} limit=0`);
      await conforms(doc, spec, op, invalid);
    }
    if (spec.params?.id) {
      const missing = await t.request(spec.path.replace(":id", "abc"), {
        method: spec.method,
        headers: { Authorization: auth, ...json },
        ...(spec.body ? { body: "{}" } : {}),
      });
      assert.equal(missing.status, spec.body ? 422 : 404, `${spec.operationId} /abc`);
      await conforms(doc, spec, op, missing);
    }
  }
});
