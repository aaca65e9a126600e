/**
 * The OpenAPI 3.1 document, generated — never written by hand — from the
 * route definitions (`src/routes/route.ts`: each route declares its guard,
 * rate-limit policy, inputs and responses once) and the zod schemas that the
 * validators use (`z.toJSONSchema`, JSON Schema 2020-12, which is OpenAPI
 * 3.1's dialect). Request schemas are rendered as the client sends them
 * (`io: "input"`), response schemas as the server sends them (`io: "output"`).
 *
 * Each app builds it once, on the first `GET /openapi.json`, and then serves
 * the cached text (`src/routes/openapi.ts`). `tests/openapi_test.ts` proves
 * that the document and the router describe the same routes with the same
 * guards, and that real responses match the documented schemas.
 */
import { z } from "zod";
import type { GuardInfo } from "./middleware/require_permission.ts";
import type { NamedSchema, ResponseDoc, RouteDefinition } from "./routes/route.ts";
import { problemBody } from "./schemas/responses.ts";

/** The version of the API contract described. */
export const API_VERSION = "1.0.0";

/** A JSON object (the document and its parts). */
export type JSONObject = { [key: string]: unknown };

const PROBLEM: NamedSchema = { name: "Problem", schema: problemBody };
const SCHEMA_REF = "#/components/schemas/";
const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** `/products/:id` → `/products/{id}`. */
export function openAPIPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}");
}

/** Security requirement of a guard: none for public routes, else the accepted schemes. */
function security(guard: GuardInfo, schemes: readonly ("basic" | "bearer")[]): JSONObject[] {
  if (guard.kind === "public") return [];
  return schemes.map((scheme) => ({ [`${scheme}Auth`]: [] }));
}

/** Errors that follow from how the route is guarded and what it reads. */
function impliedErrors(op: RouteDefinition): Record<number, string> {
  const errors: Record<number, string> = {
    401: op.guard.kind === "public" ? "PublicUnauthenticated" : "Unauthenticated",
    429: "TooManyRequests",
    500: "Internal",
    503: "Unavailable",
  };
  if (op.guard.kind === "permission") errors[403] = "Forbidden";
  if (op.params) errors[404] = "NotFound";
  if (op.query) errors[422] = "ValidationFailed";
  if (op.body) {
    Object.assign(errors, { 400: "MalformedJSON", 413: "TooLarge", 415: "NotJSON", 422: "ValidationFailed" });
  }
  return errors;
}

/** Collects named schemas per direction, refusing one name for two schemas. */
class SchemaSet {
  readonly input = z.registry<{ id: string }>();
  readonly output = z.registry<{ id: string }>();
  readonly #byName = new Map<string, z.ZodType>();

  use(named: NamedSchema, direction: "input" | "output"): JSONObject {
    const known = this.#byName.get(named.name);
    if (known !== undefined && known !== named.schema) throw new Error(`two schemas are named ${named.name}`);
    if (known === undefined) {
      this.#byName.set(named.name, named.schema);
      this[direction].add(named.schema, { id: named.name });
    }
    return { $ref: SCHEMA_REF + named.name };
  }

  render(): JSONObject {
    const uri = (id: string) => SCHEMA_REF + id;
    const out: JSONObject = {};
    for (const [registry, io] of [[this.input, "input"], [this.output, "output"]] as const) {
      const { schemas } = z.toJSONSchema(registry, { io, uri, unrepresentable: "throw" });
      for (const [name, schema] of Object.entries(schemas)) out[name] = bare(schema);
    }
    return out;
  }
}

/** A JSON Schema without the top-level `$schema`/`$id` that zod adds to stand-alone schemas. */
function bare(schema: JSONObject): JSONObject {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

function parameters(op: RouteDefinition): JSONObject[] {
  const out: JSONObject[] = [];
  for (const [name, schema] of Object.entries(op.params ?? {})) {
    const { description, ...rest } = bare(z.toJSONSchema(schema, { io: "input" }));
    out.push({ name, in: "path", required: true, description, schema: rest });
  }
  if (op.query) {
    const json = z.toJSONSchema(op.query, { io: "input" }) as JSONObject & {
      properties?: Record<string, JSONObject>;
      required?: string[];
    };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = property;
      out.push({
        name,
        in: "query",
        required: json.required?.includes(name) ?? false,
        ...(description === undefined ? {} : { description }),
        schema: rest,
      });
    }
  }
  for (const header of op.requestHeaders ?? []) out.push(ref("parameters", header));
  return out;
}

function response(status: number, spec: ResponseDoc, schemas: SchemaSet): JSONObject {
  const headers: JSONObject = {
    "X-Request-Id": ref("headers", "X-Request-Id"),
    "RateLimit": ref("headers", "RateLimit"),
    "RateLimit-Policy": ref("headers", "RateLimit-Policy"),
  };
  for (const name of spec.headers ?? []) headers[name] = ref("headers", name);
  const body = status >= 400 ? PROBLEM : spec.body;
  const mediaType = status >= 400 ? "application/problem+json" : spec.mediaType ?? "application/json";
  return {
    description: spec.description,
    headers,
    ...(body ? { content: { [mediaType]: { schema: schemas.use(body, "output") } } } : {}),
  };
}

function operation(op: RouteDefinition, schemas: SchemaSet): JSONObject {
  const responses: JSONObject = {};
  const implied = impliedErrors(op);
  const statuses = [...new Set([...Object.keys(op.responses), ...Object.keys(implied)].map(Number))].sort((a, b) =>
    a - b
  );
  for (const status of statuses) {
    const spec = op.responses[status];
    responses[String(status)] = spec ? response(status, spec, schemas) : ref("responses", implied[status]!);
  }
  const params = parameters(op);
  return {
    operationId: op.operationId,
    summary: op.summary,
    tags: [op.tag],
    security: security(op.guard, op.schemes ?? ["basic", "bearer"]),
    ...(op.guard.kind === "permission" ? { "x-permission": op.guard.permission } : {}),
    "x-rate-limit-policy": op.rateLimit,
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(op.body
      ? { requestBody: { required: true, content: { "application/json": { schema: schemas.use(op.body, "input") } } } }
      : {}),
    responses,
  };
}

const header = (description: string, schema: JSONObject = { type: "string" }) => ({ description, schema });

function sharedResponses(schemas: SchemaSet): JSONObject {
  const problem = (description: string, extra: string[] = []) => {
    const built = response(400, { description }, schemas);
    for (const name of extra) (built.headers as JSONObject)[name] = ref("headers", name);
    return built;
  };
  return {
    Unauthenticated: problem("Missing, malformed or wrong credentials.", ["WWW-Authenticate"]),
    PublicUnauthenticated: problem(
      "Credentials were sent and are wrong: an `Authorization` header is checked on every route, public ones included.",
      ["WWW-Authenticate"],
    ),
    Forbidden: problem("Authenticated, but without the permission in `x-permission` (or the object is not yours)."),
    NotFound: problem("No such resource (a malformed id is never a resource)."),
    MalformedJSON: problem("The body is not valid JSON."),
    TooLarge: problem("The body exceeds 64 KiB."),
    NotJSON: problem('The body was not sent as "Content-Type: application/json".'),
    ValidationFailed: problem("The input breaks the schema; `errors` lists each field and why (never its value)."),
    TooManyRequests: problem(
      "A rate limit (`violated-policies`) or the failed-login throttle refused the request.",
      ["Retry-After"],
    ),
    Internal: problem("An unexpected error; the cause is only in the server log, under the same `requestId`."),
    Unavailable: problem(
      "Password checks are saturated, or (auth policy) the rate-limit store is unreachable.",
      ["Retry-After"],
    ),
  };
}

/** Builds the OpenAPI 3.1 document of `operations`. Throws when a route is described twice. */
export function buildOpenAPI(operations: readonly RouteDefinition[]): JSONObject {
  const schemas = new SchemaSet();
  const paths: Record<string, JSONObject> = {};
  for (const op of operations) {
    const item = paths[openAPIPath(op.path)] ??= {};
    const method = op.method.toLowerCase();
    if (method in item) throw new Error(`${op.method} ${op.path} is described twice`);
    item[method] = operation(op, schemas);
  }
  const responses = sharedResponses(schemas);
  return {
    openapi: "3.1.0",
    info: {
      title: "secure-api",
      version: API_VERSION,
      description: "Products REST API over HTTPS (TLS 1.2/1.3). Every response carries Strict-Transport-Security, " +
        "X-Content-Type-Options, X-Frame-Options, Content-Security-Policy, Referrer-Policy, Cache-Control: no-store, " +
        "Cross-Origin-Resource-Policy and X-Request-Id. Every 4xx/5xx body is RFC 9457 application/problem+json. " +
        "`x-permission` names the permission an operation requires; `x-rate-limit-policy` its rate-limit policy.",
    },
    // Relative to where the document is served (OpenAPI 3.1 §4.8.5): right behind any host, port or proxy,
    // and what the /docs page's "Try it out" calls.
    servers: [{ url: "/", description: "This server" }],
    tags: [...new Set(operations.map((op) => op.tag))].map((name) => ({ name })),
    security: [{ basicAuth: [] }, { bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        basicAuth: { type: "http", scheme: "basic", description: 'RFC 7617, UTF-8 (`charset="UTF-8"`).' },
        bearerAuth: { type: "http", scheme: "bearer", description: "A token from `POST /auth/login`." },
      },
      parameters: {
        "If-Match": {
          name: "If-Match",
          in: "header",
          required: false,
          description: "The `ETag` last read; a different current version is a 412, not a lost update.",
          schema: { type: "string" },
        },
        "If-None-Match": {
          name: "If-None-Match",
          in: "header",
          required: false,
          description: "An `ETag` the client holds; unchanged gives 304.",
          schema: { type: "string" },
        },
      },
      headers: {
        "X-Request-Id": header("Random id of this request, also in the log and audit rows."),
        "RateLimit": header('Remaining quota, e.g. `"api";r=599;t=60` (draft-ietf-httpapi-ratelimit-headers).'),
        "RateLimit-Policy": header('The policy, e.g. `"api";q=600;w=60`.'),
        "Retry-After": header("Seconds to wait.", { type: "string", pattern: "^[0-9]+$" }),
        "WWW-Authenticate": header('`Basic realm="secure-api", charset="UTF-8"`.'),
        "ETag": header("Strong validator: the quoted product version."),
        "Location": header("The path of the created resource."),
      },
      responses,
      // Rendered last: every operation and shared response has registered its schemas by now.
      schemas: schemas.render(),
    },
  };
}
