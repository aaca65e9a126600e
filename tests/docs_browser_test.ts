/**
 * `/docs` in a real browser (README "API reference"): the real server (the
 * real task, its permission set, TLS) on a free port and Debian's headless
 * Chromium. The page loads under its strict Content-Security-Policy with
 * nothing refused and no error in the console, lists every operation of
 * `/openapi.json`, and its "Try it out" on `GET /health` gets a 200 from the
 * page itself. A control page with an inline script proves that the console
 * capture does see a CSP violation, so "none reported" means something.
 *
 * The development certificate is self-signed: this test alone starts
 * Chromium with `--ignore-certificate-errors`.
 */
import assert from "node:assert/strict";
import { type ConsoleEntry, launchBrowser } from "./browser.ts";
import { startServer } from "./e2e_helpers.ts";

/** Console entries that report a refused resource or script, or an error. */
function problems(entries: readonly ConsoleEntry[]): ConsoleEntry[] {
  return entries.filter((entry) =>
    entry.kind === "exception" || entry.level === "error" || /Content.Security.Policy|Refused to/i.test(entry.text)
  );
}

Deno.test("/docs renders every operation under its CSP in Chromium, and Try it out calls /health", async () => {
  const server = await startServer({ env: { APP_ADMIN_PASSWORD: "docs-browser-test-passphrase" } });
  try {
    await using browser = await launchBrowser({ ignoreCertificateErrors: true });

    // Control: the capture sees a violation of the same kind of policy.
    const control = await browser.newPage();
    await control.navigate(
      'data:text/html,<meta http-equiv="Content-Security-Policy" content="script-src \'self\'"><script>1</script>',
    );
    await control.waitFor("true");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(
      problems(control.console).some((entry) => /Content.Security.Policy|inline/i.test(entry.text)),
      `the control page's inline script was reported: ${JSON.stringify(control.console)}`,
    );

    const document = await (await fetch(`${server.origin}/openapi.json`, { client: server.client })).json();
    const operations = Object.values(document.paths as Record<string, Record<string, unknown>>)
      .reduce((n, item) => n + Object.keys(item).length, 0);

    const page = await browser.newPage();
    await page.navigate(`${server.origin}/docs`);
    const rendered = await page.waitFor<number>(
      `document.querySelectorAll(".opblock").length >= ${operations} && document.querySelectorAll(".opblock").length`,
    );
    assert.equal(rendered, operations, "one block per operation");
    assert.equal(
      await page.evaluate("document.querySelector('.info .title')?.textContent?.startsWith('secure-api')"),
      true,
    );

    // Try it out: expand GET /health, switch to try-out mode, execute, read the live response.
    await page.evaluate(`document.querySelector("#operations-system-health .opblock-summary-control").click(), true`);
    await page.waitFor(`!!document.querySelector("#operations-system-health .try-out__btn")`);
    await page.evaluate(`document.querySelector("#operations-system-health .try-out__btn").click(), true`);
    await page.waitFor(`!!document.querySelector("#operations-system-health .execute")`);
    await page.evaluate(`document.querySelector("#operations-system-health .execute").click(), true`);
    const status = await page.waitFor<string>(
      `document.querySelector("#operations-system-health .live-responses-table tbody .response-col_status")?.textContent?.trim()`,
    );
    assert.equal(status, "200");
    const body = await page.evaluate<string>(
      `document.querySelector("#operations-system-health .live-responses-table .microlight, #operations-system-health .live-responses-table pre")?.textContent ?? ""`,
    );
    assert.match(body, /"status":\s*"ok"/);
    assert.ok(
      page.responses.some((r) => r.url === `${server.origin}/health` && r.status === 200),
      "the page itself called /health",
    );
    assert.ok(page.responses.some((r) => r.url === `${server.origin}/docs/swagger-ui-bundle.js` && r.status === 200));

    const seen = problems(page.console);
    assert.deepEqual(seen, [], "nothing refused by the policy, no error in the console");
  } finally {
    await server.stop();
    await Deno.remove(server.dir, { recursive: true });
  }
});
