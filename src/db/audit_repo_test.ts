import assert from "node:assert/strict";
import { testDatabase } from "../../tests/helpers.ts";
import { AUDIT_PAGE_SQL, createAuditRepo } from "./audit_repo.ts";

Deno.test("AuditRepo.page() walks an index for every filter: no table scan, no sort", async () => {
  const db = await testDatabase();
  createAuditRepo(db);
  const page = { afterTs: "", afterSeq: 0, since: "", until: "\uffff", limit: 20 };
  const plan = (sql: string, params: Record<string, string | number | null>) =>
    // Both parts are constants of this codebase (AUDIT_PAGE_SQL), never input.
    // deno-lint-ignore secure-api/no-sql-string-building
    db.prepare(`EXPLAIN QUERY PLAN ${sql}`) // nosemgrep: sql-built-from-strings
      .all<{ detail: string }>({ ...page, ...params }).map((r) => r.detail)
      .join(" | ");
  const plans = {
    byDate: plan(AUDIT_PAGE_SQL.byDate, {}),
    byEvent: plan(AUDIT_PAGE_SQL.byEvent, { event: "authz_fail", actor: null }),
    byActor: plan(AUDIT_PAGE_SQL.byActor, { actor: 1 }),
  };
  assert.match(plans.byDate, /USING (COVERING )?INDEX audit_log_ts /);
  assert.match(plans.byEvent, /USING (COVERING )?INDEX audit_log_event_ts /);
  assert.match(plans.byActor, /USING (COVERING )?INDEX audit_log_actor_ts /);
  for (const p of Object.values(plans)) assert.doesNotMatch(p, /SCAN audit_log|TEMP B-TREE/);
  db.close();
});

Deno.test("AUDIT_ROWS_VIEW names every column of audit_log once, as the application reads it", async () => {
  const db = await testDatabase();
  createAuditRepo(db);
  const table = db.prepare("SELECT name FROM pragma_table_info('audit_log')").all<{ name: string }>().map((c) =>
    c.name
  );
  const view = db.prepare("SELECT name FROM pragma_table_info('audit_rows')").all<{ name: string }>().map((c) =>
    c.name
  );
  const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  assert.deepEqual(view, table.map(camel));
  assert.equal(view.length, 14);
  db.close();
});
