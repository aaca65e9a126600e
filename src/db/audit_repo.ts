/**
 * Storage of the audit log (`audit_log`, append-only by trigger; see
 * `sql/002_audit_log.sql`). The hash chain and the sanitising live in
 * `src/audit/`; this module only stores and reads rows.
 *
 * The column list is written once, in {@link AUDIT_ROWS_VIEW}: a temporary
 * view (per connection, so no migration and read-only connections work too)
 * that names every column the way the application reads it. Every query
 * selects from it; SQLite flattens the view, so each still walks its index.
 */
import type { SQLInputValue } from "node:sqlite";
import type { Database } from "./database.ts";

/** A stored audit row: every column, as the API shows it (`detail` is canonical JSON text). */
export interface AuditRow {
  seq: number;
  ts: string;
  event: string;
  level: string;
  actor: number | null;
  client: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  requestId: string | null;
  target: string | null;
  detail: string;
  prevHash: string;
  hash: string;
}

/** The one list of the audit columns, as a view `audit_rows` on the connection that runs it. */
export const AUDIT_ROWS_VIEW = `CREATE TEMP VIEW IF NOT EXISTS audit_rows AS
  SELECT seq, ts, event, level, actor, client, method, path, status, request_id AS requestId,
    target, detail, prev_hash AS prevHash, hash
  FROM main.audit_log`;

/**
 * The page queries of {@link AuditRepo.page}. Pages go in date order,
 * (ts, seq), so each filter walks its index — (ts), (event, ts) or
 * (actor, ts) — from the cursor onwards, without scanning or sorting the
 * rest of the table (a test checks the query plans).
 */
export const AUDIT_PAGE_SQL = {
  byDate: `SELECT * FROM audit_rows
    WHERE (ts, seq) > (:afterTs, :afterSeq) AND ts >= :since AND ts < :until
    ORDER BY ts, seq LIMIT :limit`,
  byEvent: `SELECT * FROM audit_rows
    WHERE event = :event AND (ts, seq) > (:afterTs, :afterSeq) AND ts >= :since AND ts < :until
      AND (:actor IS NULL OR actor = :actor)
    ORDER BY ts, seq LIMIT :limit`,
  byActor: `SELECT * FROM audit_rows
    WHERE actor = :actor AND (ts, seq) > (:afterTs, :afterSeq) AND ts >= :since AND ts < :until
    ORDER BY ts, seq LIMIT :limit`,
} as const;

/** Filters for {@link AuditRepo.page}. */
export interface AuditPageQuery {
  /** Inclusive lower bound on `ts` (the stored ISO form). */
  since?: string | undefined;
  /** Exclusive upper bound on `ts`. */
  until?: string | undefined;
  event?: string | undefined;
  actor?: number | undefined;
  /** The page starts after this row (in date order); 0 for the first page. */
  afterSeq: number;
  limit: number;
}

/** A date range: `since ≤ ts < until`, either end open. */
export interface AuditRange {
  since?: string | undefined;
  until?: string | undefined;
}

// Bounds that every stored `ts` (an ISO 8601 string) lies between, so the range is always sargable.
const EARLIEST = "";
const LATEST = "\uffff";

/** Data access for the audit log; see {@link createAuditRepo}. */
export type AuditRepo = ReturnType<typeof createAuditRepo>;

/** Prepares the audit statements once for `db`. */
export function createAuditRepo(db: Database) {
  db.exec(AUDIT_ROWS_VIEW);
  const head = db.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  // Positional: the hot path of every append (see Statement.runValues).
  const insert = db.prepare(
    `INSERT INTO audit_log (seq, ts, event, level, actor, client, method, path, status, request_id,
       target, detail, prev_hash, hash)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)`,
  );
  const all = db.prepare("SELECT * FROM audit_rows ORDER BY seq");
  const chunk = db.prepare("SELECT * FROM audit_rows WHERE seq > :after AND seq <= :upTo ORDER BY seq LIMIT :limit");
  const tsOf = db.prepare("SELECT ts FROM audit_log WHERE seq = :seq");
  const byDate = db.prepare(AUDIT_PAGE_SQL.byDate);
  const byEvent = db.prepare(AUDIT_PAGE_SQL.byEvent);
  const byActor = db.prepare(AUDIT_PAGE_SQL.byActor);
  const inRange = db.prepare("SELECT * FROM audit_rows WHERE ts >= :since AND ts < :until ORDER BY seq");

  return {
    /** The newest row's `seq` and `hash`, or null for an empty log. */
    head(): { seq: number; hash: string } | null {
      const row = head.get<{ seq: number; hash: string }>();
      return row ? { seq: row.seq, hash: row.hash } : null;
    },
    /** Inserts complete rows (sequence and hashes already computed), in order. */
    insert(rows: readonly AuditRow[]): void {
      for (const row of rows) {
        const values: SQLInputValue[] = [
          row.seq,
          row.ts,
          row.event,
          row.level,
          row.actor,
          row.client,
          row.method,
          row.path,
          row.status,
          row.requestId,
          row.target,
          row.detail,
          row.prevHash,
          row.hash,
        ];
        insert.runValues(values);
      }
    },
    /** Every row in `seq` order, streamed (constant memory for any log size). */
    all(): IterableIterator<AuditRow> {
      return all.iterate<AuditRow>();
    },
    /** Up to `limit` rows with `after < seq ≤ upTo`, in `seq` order. */
    chunk(after: number | bigint, upTo: number, limit: number): AuditRow[] {
      return chunk.all<AuditRow>({ after, upTo, limit });
    },
    /**
     * A page of rows matching `query` in date order (`ts`, then `seq`),
     * starting after row `afterSeq`. Empty when that row does not exist.
     */
    page(query: AuditPageQuery): AuditRow[] {
      const { since = EARLIEST, until = LATEST, event, actor, afterSeq, limit } = query;
      const afterTs = afterSeq === 0 ? EARLIEST : tsOf.get<{ ts: string }>({ seq: afterSeq })?.ts;
      if (afterTs === undefined) return [];
      const page = { afterTs, afterSeq, since, until, limit };
      if (event !== undefined) return byEvent.all<AuditRow>({ ...page, event, actor: actor ?? null });
      if (actor !== undefined) return byActor.all<AuditRow>({ ...page, actor });
      return byDate.all<AuditRow>(page);
    },
    /** The rows with `since ≤ ts < until` in chain (`seq`) order, streamed: for exports. */
    range(range: AuditRange = {}): IterableIterator<AuditRow> {
      return inRange.iterate<AuditRow>({ since: range.since ?? EARLIEST, until: range.until ?? LATEST });
    },
  };
}
