/**
 * Applying the SQLite migrations (`sql/NNN_name.sql`, read by
 * `src/db/migrations.ts`): each once, in order, inside its own transaction,
 * and recorded with a SHA-256 checksum so that an applied migration edited
 * afterwards stops the start instead of silently diverging from the database.
 */
import { createHash } from "node:crypto";
import { type Clock, isoNow } from "../../util/clock.ts";
import { type Migration, MigrationError } from "../migrations.ts";
import type { MigrationStatus } from "../records.ts";
import type { Database } from "./database.ts";

/**
 * Earlier texts of applied migrations that are still accepted: for a
 * version, the checksum of its text now, mapped to the checksums of the
 * texts it replaced. Each pair is an edit reviewed to change comments only,
 * so a database migrated with the earlier text is not refused — and only
 * while the file is exactly the reviewed text. Any other change to an
 * applied migration stops the start.
 */
export const ACCEPTED_EARLIER_CHECKSUMS: Readonly<Record<number, Readonly<Record<string, readonly string[]>>>> = {
  // 002_audit_log.sql: its first comment cited a document outside the repository.
  2: {
    "428b253bb4684c669f8c257f9df2845db333edcbfde47c4d6175aac835cbd4aa": [
      "98f214b37586fa245c510d1a52dac8fea0d8e65645fe263eb7e4506766b91815",
    ],
  },
};

/** Options for {@link migrate}. */
export interface MigrateOptions {
  /** The time recorded as `applied_at`. Default `Date.now`. */
  clock?: Clock;
  /** Reviewed earlier checksums still accepted. Default {@link ACCEPTED_EARLIER_CHECKSUMS}. */
  acceptedEarlier?: Readonly<Record<number, Readonly<Record<string, readonly string[]>>>>;
}

function checksum(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

/**
 * Applies the migrations not yet recorded. Returns the names applied now.
 * A failing migration rolls back entirely and leaves the database as it was.
 *
 * Safe when several processes start on one file at once: whether a
 * migration is applied is decided inside the `BEGIN IMMEDIATE` transaction
 * that applies it, i.e. under SQLite's write lock. (Reading the applied list
 * once, before taking the lock, let two processes both see a fresh file and
 * the second fail with "table users already exists".)
 */
export function migrate(db: Database, migrations: readonly Migration[], options: MigrateOptions = {}): string[] {
  const { clock = Date.now, acceptedEarlier = ACCEPTED_EARLIER_CHECKSUMS } = options;
  db.tx(() =>
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      checksum   TEXT NOT NULL,
      applied_at TEXT NOT NULL
    ) STRICT`)
  );
  const recorded = db.prepare("SELECT name, checksum FROM schema_migrations WHERE version = :version");
  const record = db.prepare(
    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (:version, :name, :checksum, :at)",
  );
  const done: string[] = [];
  for (const migration of migrations) {
    const sum = checksum(migration.sql);
    let applied: boolean;
    try {
      // Check and apply under one write lock: another process may have applied it meanwhile.
      applied = db.tx(() => {
        const previous = recorded.get<{ name: string; checksum: string }>({ version: migration.version });
        if (previous) {
          const accepted = [sum, ...(acceptedEarlier[migration.version]?.[sum] ?? [])];
          if (!accepted.includes(previous.checksum)) {
            throw new MigrationError(`${migration.name} was changed after it was applied`);
          }
          return false;
        }
        db.exec(migration.sql);
        record.run({ version: migration.version, name: migration.name, checksum: sum, at: isoNow(clock) });
        return true;
      });
    } catch (error) {
      if (error instanceof MigrationError) throw error;
      throw new MigrationError(`${migration.name} failed: ${(error as Error).message}`, { cause: error });
    }
    if (applied) done.push(migration.name);
  }
  return done;
}

/**
 * Compares `migrations` with what `schema_migrations` records, by version:
 * the files applied, those not applied, and those applied whose text has
 * changed since (a reviewed earlier text in `acceptedEarlier` counts as
 * unchanged, as it does for {@link migrate}). Reads only; throws when the
 * database cannot answer.
 */
export function migrationStatus(
  db: Database,
  migrations: readonly Migration[],
  acceptedEarlier: MigrateOptions["acceptedEarlier"] = ACCEPTED_EARLIER_CHECKSUMS,
): MigrationStatus {
  const recorded = new Map(
    db.prepare("SELECT version, checksum FROM schema_migrations").all<{ version: number; checksum: string }>()
      .map((row) => [row.version, row.checksum]),
  );
  const applied: string[] = [];
  const pending: string[] = [];
  const changed: string[] = [];
  for (const migration of migrations) {
    const previous = recorded.get(migration.version);
    if (previous === undefined) {
      pending.push(migration.name);
      continue;
    }
    applied.push(migration.name);
    const sum = checksum(migration.sql);
    if (![sum, ...(acceptedEarlier[migration.version]?.[sum] ?? [])].includes(previous)) changed.push(migration.name);
  }
  return { applied, pending, changed };
}
