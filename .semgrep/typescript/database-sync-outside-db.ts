// Fixture for database-sync-outside-db (semgrep --test). The rule is scoped to src/ minus src/db/ and tests.
// ruleid: database-sync-outside-db
import { DatabaseSync } from "node:sqlite";
// ruleid: database-sync-outside-db
import * as sqlite from "node:sqlite";
declare function openDatabase(path: string): unknown;

// ruleid: database-sync-outside-db
const raw = new DatabaseSync("data/app.db");

// ruleid: database-sync-outside-db
const alsoRaw = new sqlite.DatabaseSync(":memory:");

// ok: database-sync-outside-db
const db = openDatabase("data/app.db");

export { alsoRaw, db, raw };
