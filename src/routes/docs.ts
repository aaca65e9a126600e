/**
 * `GET /docs`: an interactive reference of `/openapi.json`, rendered by
 * Swagger UI from the locked npm package `swagger-ui-dist` — served by this
 * server, never from a CDN, so the page works offline and loads no code the
 * lock file does not pin.
 *
 * The files are imported as module text/bytes (`with { type: "text" }`,
 * Deno's raw imports, `"unstable": ["raw-imports"]` in deno.json): the module
 * loader reads them from Deno's npm cache at start-up, so the server's
 * permission set needs no read access to that cache, and `deno compile`
 * embeds them in the binary.
 *
 * Why Swagger UI: it renders under a strict Content-Security-Policy with no
 * inline script and no inline style element (measured in a real Chromium by
 * `tests/docs_browser_test.ts`: no violation reported), its "Try it out"
 * calls the API with `fetch` from the same origin, and it is the most widely
 * used and maintained of the candidates. Redoc and Scalar inject `<style>`
 * elements at run time (styled-components, Vue), which need
 * `style-src 'unsafe-inline'`. The page's own script is a separate file, not
 * an inline block.
 *
 * The page's policy (`DOCS_CSP`) allows only this origin for scripts,
 * styles, fonts and `fetch`, `data:` images (the stylesheet's icons), and
 * nothing else: no inline script, no `eval`, no framing, no `<base>`, no
 * plugins, no form posts. Every other route keeps `default-src 'none'`.
 */
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "bytes" };
import stylesheet from "swagger-ui-dist/swagger-ui.css" with { type: "bytes" };
import { publicRoute } from "../middleware/require_permission.ts";
import { docsAsset, docsPage } from "../schemas/responses.ts";
import { defineRoute, named, response, type RouteDefinition } from "./route.ts";

/** The Content-Security-Policy of `/docs` and its assets. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The page: markup only; the script that starts Swagger UI is `/docs/init.js`.
 * The empty `data:` icon stops the browser asking for a `/favicon.ico` there is none of.
 */
const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>secure-api API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/**
 * Starts Swagger UI on `/openapi.json`. `validatorUrl: null` stops it from
 * sending the document to swagger.io's online validator (a request to a
 * third party, which the policy would refuse anyway).
 */
const INIT = `"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: false,
  withCredentials: false,
});
`;

/** The files the page loads: path, body, media type. */
const ASSETS: readonly { readonly name: string; readonly body: Uint8Array | string; readonly type: string }[] = [
  { name: "swagger-ui-bundle.js", body: bundle, type: "text/javascript" },
  { name: "init.js", body: INIT, type: "text/javascript" },
  { name: "swagger-ui.css", body: stylesheet, type: "text/css" },
];

/** `GET /docs` and the files it loads. */
export function docsRoutes(): RouteDefinition[] {
  return [
    defineRoute({
      method: "GET",
      path: "/docs",
      guard: publicRoute(),
      operationId: "docs",
      summary: "Interactive API reference (Swagger UI) of /openapi.json",
      tag: "docs",
      responses: { 200: response("The page.", named("DocsPage", docsPage), undefined, "text/html") },
    }, (c) => {
      c.set("contentSecurityPolicy", DOCS_CSP);
      return c.body(PAGE, 200, { "Content-Type": "text/html; charset=utf-8" });
    }),
    ...ASSETS.map((asset) =>
      defineRoute({
        method: "GET",
        path: `/docs/${asset.name}`,
        guard: publicRoute(),
        operationId: `docs:${asset.name}`,
        summary: `${asset.name}, loaded by the reference page`,
        tag: "docs",
        responses: { 200: response("The file.", named("DocsAsset", docsAsset), undefined, asset.type) },
      }, (c) => {
        c.set("contentSecurityPolicy", DOCS_CSP);
        const body = typeof asset.body === "string" ? asset.body : asset.body as Uint8Array<ArrayBuffer>;
        return c.body(body, 200, { "Content-Type": `${asset.type}; charset=utf-8` });
      })
    ),
  ];
}
