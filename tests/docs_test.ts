/**
 * `/docs` over HTTP (the browser test, `docs_browser_test.ts`, renders it):
 * the page and its files come from this server with their own strict
 * policy, and every other route keeps `default-src 'none'`.
 */
import assert from "node:assert/strict";
import { DOCS_CSP } from "../src/routes/docs.ts";
import { HSTS } from "../src/middleware/security_headers.ts";
import { createTestApp } from "./helpers.ts";

Deno.test("/docs and its files carry the docs policy: self only, no inline script, no framing", async () => {
  await using t = await createTestApp();
  const page = await t.request("/docs");
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("Content-Type"), "text/html; charset=utf-8");
  assert.equal(page.headers.get("Content-Security-Policy"), DOCS_CSP);
  assert.equal(page.headers.get("Strict-Transport-Security"), HSTS);
  assert.equal(page.headers.get("X-Frame-Options"), "DENY");
  const html = await page.text();
  assert.doesNotMatch(
    html,
    /<script>|<script [^>]*>[^<]+<\/script>|<style|\sstyle=|\son[a-z]+=/i,
    "no inline script or style",
  );
  assert.doesNotMatch(html, /https?:\/\//, "nothing from another origin (no CDN)");
  for (const src of html.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)) {
    const asset = await t.request(src[1]!);
    assert.equal(asset.status, 200, src[1]);
    assert.equal(asset.headers.get("Content-Security-Policy"), DOCS_CSP);
    assert.ok((await asset.arrayBuffer()).byteLength > 100, src[1]);
  }
  for (
    const directive of [
      "script-src 'self'",
      "connect-src 'self'",
      "base-uri 'none'",
      "object-src 'none'",
      "frame-ancestors 'none'",
    ]
  ) {
    assert.ok(DOCS_CSP.split("; ").includes(directive), directive);
  }
  assert.doesNotMatch(DOCS_CSP, /unsafe-inline|unsafe-eval|\*|https:/);
});

Deno.test("the /docs bundle is the locked swagger-ui-dist, byte for byte", async () => {
  await using t = await createTestApp();
  const served = new Uint8Array(await (await t.request("/docs/swagger-ui-bundle.js")).arrayBuffer());
  const { default: locked } = await import("swagger-ui-dist/swagger-ui-bundle.js", { with: { type: "bytes" } });
  assert.deepEqual(served, locked);
  const init = await (await t.request("/docs/init.js")).text();
  assert.match(init, /url: "\/openapi\.json"/);
  assert.match(init, /validatorUrl: null/, "the document is never sent to an online validator");
});

Deno.test("every route outside /docs keeps default-src 'none', a 404 under /docs included", async () => {
  await using t = await createTestApp();
  for (const path of ["/health", "/openapi.json", "/docs/nope.js", "/docs/../openapi.json"]) {
    const res = await t.request(path);
    await res.body?.cancel();
    assert.equal(
      res.headers.get("Content-Security-Policy"),
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
      path,
    );
  }
});
