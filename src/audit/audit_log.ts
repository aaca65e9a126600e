/**
 * The audit log: the `audit_log` table is the system of record, and every row
 * is also written as one JSON log line once its transaction commits.
 *
 * Call {@link AuditLog.append} inside the same `db.tx()` as the change it
 * describes: the change and its record commit together or not at all. Event
 * names follow the OWASP Logging Vocabulary. Untrusted strings are sanitised
 * here, once, for both outputs. Secrets never enter: callers pass ids and
 * names, and the logger's redaction is a second line of defence.
 */
import type { Logger } from "@logtape/logtape";
import type { Database, Statement } from "../db/database.ts";
import {
  canonicalJSON,
  chainHash,
  ChainVerifier,
  GENESIS_HASH,
  type KnownHead,
  type StoredRow,
  verifyChain,
  type VerifyResult,
} from "./hash_chain.ts";
import { type Clock, isoNow } from "../util/clock.ts";
import { sanitizeText, sanitizeValue } from "./sanitize.ts";

/** The events this system records (OWASP Logging Vocabulary, plus product events). */
export const AUDIT_EVENTS = [
  "authn_login_success",
  "authn_login_fail",
  "authn_login_fail_max",
  "authn_login_lock",
  "authn_token_created",
  "authn_token_revoked",
  "authn_password_change",
  "authz_fail",
  "authz_change",
  "user_created",
  "user_updated",
  "user_deleted",
  "excess_rate_limit_exceeded",
  "input_validation_fail",
  "sys_startup",
  "sys_shutdown",
  "sys_crash",
  "product_created",
  "product_updated",
  "product_deleted",
] as const;

/** An audit event name. */
export type AuditEventName = typeof AUDIT_EVENTS[number];

/** Severity of an audit event. */
export type AuditLevel = "info" | "warning" | "error" | "critical";

const DEFAULT_LEVEL: Partial<Record<AuditEventName, AuditLevel>> = {
  authn_login_fail: "warning",
  authn_login_fail_max: "warning",
  authn_login_lock: "critical",
  authz_fail: "warning",
  excess_rate_limit_exceeded: "warning",
  input_validation_fail: "warning",
  sys_crash: "critical",
};

/** Who, where and how: the request context of an event. */
export interface AuditContext {
  actor?: number | null;
  client?: string | null;
  method?: string | null;
  path?: string | null;
  requestId?: string | null;
}

/** One event to record. */
export interface AuditEntry extends AuditContext {
  event: AuditEventName;
  level?: AuditLevel;
  status?: number | null;
  /** What the event is about, e.g. `user:12` or `product:7`. */
  target?: string | null;
  /** Structured facts; never secrets. */
  detail?: Record<string, unknown>;
}

/** A stored row, as the API returns it. */
export type AuditRecord = StoredRow;

/** Filters for {@link AuditLog.query}. */
export interface AuditQuery {
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

/** A date range for {@link AuditLog.range}. */
export interface AuditRange {
  since?: string | undefined;
  until?: string | undefined;
}

// Bounds that every stored `ts` (an ISO 8601 string) lies between, so the range is always sargable.
const EARLIEST = "";
const LATEST = "\uffff";

/** Options for {@link AuditLog.verifyInChunks}. */
export interface ChunkedVerifyOptions {
  /** Heads recorded elsewhere (the log) that must still be in the chain. Default none. */
  knownHeads?: readonly KnownHead[];
  /** Rows read and hashed between pauses. Default 2000 (a few milliseconds of work). */
  chunkSize?: number;
  /** Awaited between chunks so other work runs. Default a `setTimeout(0)` turn of the event loop. */
  pause?: () => Promise<void>;
}

/**
 * The `detail` object of a stored row. Stored detail is canonical JSON; text
 * that does not parse (a tampered row) is returned as the raw string, so
 * reading a damaged log still works and the damage stays visible.
 */
export function parseDetail(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Options for {@link AuditLog}. */
export interface AuditLogOptions {
  /** The time. Default `Date.now`. */
  clock?: Clock;
  /** Where each committed row is also written; default none (tests). */
  logger?: Logger | null;
  /** Write the chain head to the log every this many events. Default 1000. */
  headEvery?: number;
}

/**
 * The page queries of {@link AuditLog.query}. Pages go in date order,
 * (ts, seq), so each filter walks its index — (ts), (event, ts) or
 * (actor, ts) — from the cursor onwards, without scanning or sorting the
 * rest of the table (a test checks the query plans).
 */
export const AUDIT_PAGE_SQL = {
  byDate: `SELECT seq, ts, event, level, actor, client, method, path, status, request_id AS requestId,
      target, detail, prev_hash AS prevHash, hash
    FROM audit_log
    WHERE (ts, seq) > (:afterTs, :afterSeq) AND ts >= :since AND ts < :until
    ORDER BY ts, seq LIMIT :limit`,
  byEvent: `SELECT seq, ts, event, level, actor, client, method, path, status, request_id AS requestId,
      target, detail, prev_hash AS prevHash, hash
    FROM audit_log
    WHERE event = :event AND (ts, seq) > (:afterTs, :afterSeq) AND ts >= :since AND ts < :until
      AND (:actor IS NULL OR actor = :actor)
    ORDER BY ts, seq LIMIT :limit`,
  byActor: `SELECT seq, ts, event, level, actor, client, method, path, status, request_id AS requestId,
      target, detail, prev_hash AS prevHash, hash
    FROM audit_log
    WHERE actor = :actor AND (ts, seq) > (:afterTs, :afterSeq) AND ts >= :since AND ts < :until
    ORDER BY ts, seq LIMIT :limit`,
} as const;

function text(value: string | null | undefined, max?: number): string | null {
  return value === undefined || value === null ? null : sanitizeText(value, max);
}

/** The audit log over one database. */
export class AuditLog {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #logger: Logger | null;
  readonly #headEvery: number;
  readonly #head: Statement;
  readonly #insert: Statement;
  readonly #all: Statement;
  readonly #chunk: Statement;
  readonly #tsOf: Statement;
  readonly #byDate: Statement;
  readonly #byEvent: Statement;
  readonly #byActor: Statement;
  readonly #range: Statement;
  /** The newest row this instance committed: a head that must stay in the chain. */
  #lastWritten: KnownHead | null = null;

  constructor(db: Database, options: AuditLogOptions = {}) {
    const { clock = Date.now, logger = null, headEvery = 1000 } = options;
    this.#db = db;
    this.#clock = clock;
    this.#logger = logger;
    this.#headEvery = headEvery;
    this.#head = db.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    // Positional: the hot path of every append (see Statement.runValues).
    this.#insert = db.prepare(
      `INSERT INTO audit_log (seq, ts, event, level, actor, client, method, path, status, request_id,
         target, detail, prev_hash, hash)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)`,
    );
    this.#all = db.prepare(
      `SELECT seq, ts, event, level, actor, client, method, path, status, request_id AS requestId,
         target, detail, prev_hash AS prevHash, hash
       FROM audit_log ORDER BY seq`,
    );
    this.#chunk = db.prepare(
      `SELECT seq, ts, event, level, actor, client, method, path, status, request_id AS requestId,
         target, detail, prev_hash AS prevHash, hash
       FROM audit_log WHERE seq > :after AND seq <= :upTo ORDER BY seq LIMIT :limit`,
    );
    this.#tsOf = db.prepare("SELECT ts FROM audit_log WHERE seq = :seq");
    this.#byDate = db.prepare(AUDIT_PAGE_SQL.byDate);
    this.#byEvent = db.prepare(AUDIT_PAGE_SQL.byEvent);
    this.#byActor = db.prepare(AUDIT_PAGE_SQL.byActor);
    this.#range = db.prepare(
      `SELECT seq, ts, event, level, actor, client, method, path, status, request_id AS requestId,
         target, detail, prev_hash AS prevHash, hash
       FROM audit_log WHERE ts >= :since AND ts < :until ORDER BY seq`,
    );
  }

  /** The newest row's `seq` and `hash`, or null for an empty log. */
  head(): KnownHead | null {
    const row = this.#head.get<KnownHead>();
    return row ? { seq: row.seq, hash: row.hash } : null;
  }

  /**
   * Appends one event and returns its row. Joins the caller's transaction
   * (or opens one), reading the head inside it, so concurrent writers —
   * the server and the admin CLI — still form one chain.
   */
  append(entry: AuditEntry): AuditRecord {
    return this.appendMany([entry])[0]!;
  }

  /** Appends several events in one transaction (one fsync for the batch). */
  appendMany(entries: readonly AuditEntry[]): AuditRecord[] {
    const rows = this.#db.tx(() => {
      const head = this.head();
      let seq = head?.seq ?? 0;
      let prevHash = head?.hash ?? GENESIS_HASH;
      const written: AuditRecord[] = [];
      // One timestamp for the batch: its rows commit together.
      const ts = isoNow(this.#clock);
      for (const entry of entries) {
        seq++;
        const fields = {
          seq,
          ts,
          event: entry.event,
          level: entry.level ?? DEFAULT_LEVEL[entry.event] ?? "info",
          actor: entry.actor ?? null,
          client: text(entry.client, 64),
          method: text(entry.method, 16),
          path: text(entry.path),
          status: entry.status ?? null,
          requestId: text(entry.requestId, 64),
          target: text(entry.target),
          detail: canonicalJSON(sanitizeValue(entry.detail ?? {})),
        };
        const row = { ...fields, prevHash, hash: chainHash(prevHash, fields) };
        this.#insert.runValues([
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
        ]);
        written.push(row);
        prevHash = row.hash;
      }
      return written;
    });
    this.#db.afterCommit(() => {
      const last = rows[rows.length - 1];
      if (last && last.seq > (this.#lastWritten?.seq ?? 0)) this.#lastWritten = { seq: last.seq, hash: last.hash };
      this.#emit(rows);
    });
    return rows;
  }

  #emit(rows: readonly AuditRecord[]): void {
    if (!this.#logger) return;
    for (const row of rows) {
      const { detail, ...rest } = row;
      this.#logger.info("audit {event}", { event: row.event, audit: { ...rest, detail: parseDetail(detail) } });
      if (row.seq % this.#headEvery === 0) this.logHead();
    }
  }

  /** Writes the current head to the log (at start-up, periodically, at shutdown). */
  logHead(): void {
    const head = this.head();
    this.#logger?.info("audit chain head {seq}", { auditHead: head, seq: head?.seq ?? 0 });
  }

  /** Every row in `seq` order, streamed (constant memory for any log size). */
  rows(): IterableIterator<AuditRecord> {
    return this.#all.iterate<AuditRecord>();
  }

  /**
   * Recomputes the whole chain in one go; see {@link verifyChain}. Besides
   * `knownHeads`, the newest row this instance wrote must still be there, so
   * a running server notices its own tail being cut. Blocks for the whole
   * log: tools use it; the server uses {@link AuditLog.verifyInChunks}.
   */
  verify(knownHeads: readonly KnownHead[] = []): VerifyResult {
    return verifyChain(this.rows(), this.#withOwnHead(knownHeads));
  }

  /**
   * The same verification, `chunkSize` rows at a time with a pause between
   * chunks, so a server verifying millions of rows keeps answering other
   * requests. It covers the rows up to the head at the moment it starts;
   * rows appended meanwhile are left for the next run.
   */
  async verifyInChunks(options: ChunkedVerifyOptions = {}): Promise<VerifyResult> {
    const { knownHeads = [], chunkSize = 2000, pause = nextTurn } = options;
    const verifier = new ChainVerifier(this.#withOwnHead(knownHeads));
    const upTo = this.head()?.seq ?? 0;
    // From SQLite's smallest integer: a forged row with seq ≤ 0 must be seen too.
    let after: number | bigint = -(2n ** 63n);
    for (;;) {
      const rows: AuditRecord[] = this.#chunk.all<AuditRecord>({ after, upTo, limit: chunkSize });
      for (const row of rows) {
        if (!verifier.push(row)) return verifier.result();
      }
      if (rows.length < chunkSize) return verifier.result();
      after = rows[rows.length - 1]!.seq;
      await pause();
    }
  }

  #withOwnHead(knownHeads: readonly KnownHead[]): KnownHead[] {
    return this.#lastWritten ? [...knownHeads, this.#lastWritten] : [...knownHeads];
  }

  /**
   * A page of rows matching `query` in date order (`ts`, then `seq`),
   * starting after row `afterSeq`. Empty when that row does not exist.
   */
  query(query: AuditQuery): AuditRecord[] {
    const { since = EARLIEST, until = LATEST, event, actor, afterSeq, limit } = query;
    const afterTs = afterSeq === 0 ? EARLIEST : this.#tsOf.get<{ ts: string }>({ seq: afterSeq })?.ts;
    if (afterTs === undefined) return [];
    const page = { afterTs, afterSeq, since, until, limit };
    if (event !== undefined) return this.#byEvent.all<AuditRecord>({ ...page, event, actor: actor ?? null });
    if (actor !== undefined) return this.#byActor.all<AuditRecord>({ ...page, actor });
    return this.#byDate.all<AuditRecord>(page);
  }

  /** The rows with `since ≤ ts < until` in chain (`seq`) order, streamed: for exports. */
  range(range: AuditRange = {}): IterableIterator<AuditRecord> {
    return this.#range.iterate<AuditRecord>({ since: range.since ?? EARLIEST, until: range.until ?? LATEST });
  }
}
