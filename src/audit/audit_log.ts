/**
 * The audit log: the `audit_log` table is the system of record, and every row
 * is also written as one JSON log line once its transaction commits.
 *
 * Call {@link AuditLog.append} inside the same `db.tx()` as the change it
 * describes: the change and its record commit together or not at all. Event
 * names follow the OWASP Logging Vocabulary (`events.ts`). Untrusted strings
 * are sanitised here, once, for both outputs. Secrets never enter: callers
 * pass ids and names, and the logger's redaction is a second line of
 * defence. Storage is `src/db/audit_repo.ts`; verification `verify.ts`.
 */
import type { Logger } from "@logtape/logtape";
import {
  type AuditPageQuery,
  type AuditRange,
  type AuditRepo,
  type AuditRow,
  createAuditRepo,
} from "../db/audit_repo.ts";
import type { Database } from "../db/database.ts";
import { type Clock, isoNow } from "../util/clock.ts";
import { type AuditEntry, levelOf } from "./events.ts";
import {
  canonicalJSON,
  chainHash,
  GENESIS_HASH,
  type KnownHead,
  verifyChain,
  type VerifyResult,
} from "./hash_chain.ts";
import { sanitizeText, sanitizeValue } from "./sanitize.ts";
import { type ChunkedVerifyOptions, verifyInChunks } from "./verify.ts";

/** A stored row, as the API returns it. */
export type AuditRecord = AuditRow;

/** Filters for {@link AuditLog.query}. */
export type AuditQuery = AuditPageQuery;

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

/** Options for {@link AuditLog}. */
export interface AuditLogOptions {
  /** The time. Default `Date.now`. */
  clock?: Clock;
  /** Where each committed row is also written; default none (tests). */
  logger?: Logger | null;
  /** Write the chain head to the log every this many events. Default 1000. */
  headEvery?: number;
}

function text(value: string | null | undefined, max?: number): string | null {
  return value === undefined || value === null ? null : sanitizeText(value, max);
}

/** The audit log over one database. */
export class AuditLog {
  readonly #db: Database;
  readonly #rows: AuditRepo;
  readonly #clock: Clock;
  readonly #logger: Logger | null;
  readonly #headEvery: number;
  /** The newest row this instance committed: a head that must stay in the chain. */
  #lastWritten: KnownHead | null = null;

  constructor(db: Database, options: AuditLogOptions = {}) {
    const { clock = Date.now, logger = null, headEvery = 1000 } = options;
    this.#db = db;
    this.#rows = createAuditRepo(db);
    this.#clock = clock;
    this.#logger = logger;
    this.#headEvery = headEvery;
  }

  /** The newest row's `seq` and `hash`, or null for an empty log. */
  head(): KnownHead | null {
    return this.#rows.head();
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
      const head = this.#rows.head();
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
          level: levelOf(entry),
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
        written.push(row);
        prevHash = row.hash;
      }
      this.#rows.insert(written);
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
    return this.#rows.all();
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

  /** The same verification, a chunk at a time with pauses between (see `verify.ts`). */
  verifyInChunks(options: ChunkedVerifyOptions = {}): Promise<VerifyResult> {
    return verifyInChunks(this.#rows, { ...options, knownHeads: this.#withOwnHead(options.knownHeads ?? []) });
  }

  #withOwnHead(knownHeads: readonly KnownHead[]): KnownHead[] {
    return this.#lastWritten ? [...knownHeads, this.#lastWritten] : [...knownHeads];
  }

  /**
   * A page of rows matching `query` in date order (`ts`, then `seq`),
   * starting after row `afterSeq`. Empty when that row does not exist.
   */
  query(query: AuditQuery): AuditRecord[] {
    return this.#rows.page(query);
  }

  /** The rows with `since ≤ ts < until` in chain (`seq`) order, streamed: for exports. */
  range(range: AuditRange = {}): IterableIterator<AuditRecord> {
    return this.#rows.range(range);
  }
}
