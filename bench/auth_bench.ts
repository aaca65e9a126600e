/**
 * Hot paths of authentication and authorization, measured with `deno bench`
 * (`deno task bench`). PBKDF2 at 600,000 iterations is the reference they
 * exist to avoid.
 */
import { parseAuthorization } from "../src/auth/authorization_header.ts";
import { pbkdf2SHA256 } from "../src/crypto/password.ts";
import { hashToken } from "../src/crypto/tokens.ts";
import { createTestApp } from "../tests/helpers.ts";

const t = await createTestApp();
const user = await t.user("bencher", ["editor"]);
const product = await t.deps.store.transaction((tx) =>
  tx.products.create(
    { name: "Kettle", description: "", priceCents: 3500, stock: 2 },
    user.id,
    "2026-01-01T00:00:00.000Z",
  )
);
const ctx = {
  actor: null,
  client: "192.0.2.1",
  method: "GET",
  path: "/products/1",
  requestId: "bench",
  clientKey: "192.0.2.1",
};
await t.deps.authenticator.basic(user.username, user.password, ctx); // warm the credential cache
const { token } = await t.deps.authenticator.issueToken(user.id, ctx);
const cacheKey = t.deps.credentialCache.keyOf(user.username, user.password);
const salt = crypto.getRandomValues(new Uint8Array(16));
const passwordBytes = new TextEncoder().encode(user.password);

Deno.bench("credential cache: HMAC key + lookup", { group: "auth", baseline: true }, () => {
  t.deps.credentialCache.get(t.deps.credentialCache.keyOf(user.username, user.password));
});

Deno.bench("credential cache: lookup only", { group: "auth" }, () => {
  t.deps.credentialCache.get(cacheKey);
});

Deno.bench("Basic header parse", { group: "auth" }, () => {
  parseAuthorization(user.basic);
});

Deno.bench("authenticate Basic, cached (gate + HMAC + cache + principal)", { group: "auth" }, async () => {
  await t.deps.authenticator.basic(user.username, user.password, ctx);
});

Deno.bench("authenticate Bearer (SHA-256 + token row + principal)", { group: "auth" }, async () => {
  await t.deps.authenticator.bearer(token, ctx);
});

Deno.bench("token hash (SHA-256)", { group: "auth" }, () => {
  hashToken(token);
});

Deno.bench("permission check: generation read + cached principal", { group: "authz" }, async () => {
  if (!(await t.deps.principals.load(user.id))!.permissions.has("products:read")) throw new Error("unexpected");
});

Deno.bench(
  "permission check: uncached principal join (what the cache avoids)",
  { group: "authz", baseline: true },
  async () => {
    if (!(await t.deps.store.users.loadPrincipal(user.id))!.permissions.has("products:read")) {
      throw new Error("unexpected");
    }
  },
);

Deno.bench("product read (point query)", { group: "db" }, async () => {
  await t.deps.store.products.get(product.id);
});

const basicHeaders = { Authorization: user.basic };
const bearerHeaders = { Authorization: `Bearer ${token}` };
const productPath = `/products/${product.id}`;

Deno.bench("GET /products/:id in-process, Basic (cached)", { group: "request", baseline: true }, async () => {
  const res = await t.request(productPath, { headers: basicHeaders });
  if (res.status !== 200) throw new Error(`unexpected ${res.status}`);
  await res.arrayBuffer();
});

Deno.bench("GET /products/:id in-process, Bearer", { group: "request" }, async () => {
  const res = await t.request(productPath, { headers: bearerHeaders });
  if (res.status !== 200) throw new Error(`unexpected ${res.status}`);
  await res.arrayBuffer();
});

Deno.bench("PBKDF2-HMAC-SHA-256, 600,000 iterations (reference)", { group: "kdf", n: 20, warmup: 2 }, async () => {
  await pbkdf2SHA256(passwordBytes, salt, 600_000);
});
