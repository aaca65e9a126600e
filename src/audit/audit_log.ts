/**
 * The audit log: the `audit_log` table is the system of record, and every row
 * is also written as one JSON log line once its transaction commits.
 *
 * A change and its record commit together or not at all: a service calls
 * {@link AuditLog.appendIn} with the transaction that makes the change.
 * {@link AuditLog.append} opens a transaction of its own for events that
 * change nothing else (a failed login, a refused request). Either way the
 * head is read after `lockHead()` inside the transaction, so concurrent
 * writers — requests, the admin CLI, other instances — form one chain.
 *
 * Event names follow the OWASP Logging Vocabulary (`events.ts`). Untrusted
 * strings are sanitised here, once, for both outputs. Secrets never enter:
 * callers pass ids and names, and the logger's redaction is a second line of
 * defence. Verification is `verify.ts`; storage is the data store's.
 */
import type { Logger } from "@logtape/logtape";
import type { AuditPageQuery, AuditRange, AuditRow } from "../db/records.ts";
import type { DataStore, StoreReads, Transaction } from "../db/store.ts";
import { type Clock, isoNow } from "../util/clock.ts";
import { type AuditEntry, levelOf } from "./events.ts";
import {
  canonicalJSON,
  chainHash,
  ChainVerifier,
  GENESIS_HASH,
  type KnownHead,
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

/** The audit log over one data store. */
export class AuditLog {
  readonly #store: DataStore;
  readonly #clock: Clock;
  readonly #logger: Logger | null;
  readonly #headEvery: number;
  /** The newest row this instance committed: a head that must stay in the chain. */
  #lastWritten: KnownHead | null = null;

  constructor(store: DataStore, options: AuditLogOptions = {}) {
    const { clock = Date.now, logger = null, headEvery = 1000 } = options;
    this.#store = store;
    this.#clock = clock;
    this.#logger = logger;
    this.#headEvery = headEvery;
  }

  /** The newest row's `seq` and `hash`, or null for an empty log. */
  head(): Promise<KnownHead | null> {
    return this.#store.audit.head();
  }

  /** Records one event in a transaction of its own; resolves to its row once committed. */
  async append(entry: AuditEntry): Promise<AuditRecord> {
    return (await this.appendMany([entry]))[0]!;
  }

  /** Records several events in one transaction of their own (one fsync for the batch). */
  appendMany(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    return this.#store.transaction((tx) => this.appendIn(tx, ...entries));
  }

  /**
   * Records events in the caller's transaction `tx`, with the change they
   * describe: the rows commit with it, or not at all, and their log lines
   * are written only once it has committed.
   */
  async appendIn(tx: Transaction, ...entries: AuditEntry[]): Promise<AuditRecord[]> {
    const head = await tx.audit.lockHead();
    let seq = head?.seq ?? 0;
    let prevHash = head?.hash ?? GENESIS_HASH;
    const rows: AuditRecord[] = [];
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
      rows.push(row);
      prevHash = row.hash;
    }
    await tx.audit.insert(rows);
    tx.afterCommit(() => {
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
      if (row.seq % this.#headEvery === 0) this.#logHeadAt({ seq: row.seq, hash: row.hash });
    }
  }

  #logHeadAt(head: KnownHead | null): void {
    this.#logger?.info("audit chain head {seq}", { auditHead: head, seq: head?.seq ?? 0 });
  }

  /** Writes the current head to the log (at start-up, periodically, at shutdown). */
  async logHead(): Promise<void> {
    this.#logHeadAt(await this.head());
  }

  /** Every row in `seq` order, streamed in chunks (constant memory for any log size). */
  rows(): AsyncIterable<AuditRecord> {
    return this.#store.audit.rows();
  }

  /**
   * Recomputes the whole chain, streaming every row; see `verifyChain`.
   * Besides `knownHeads`, the newest row this instance wrote must still be
   * there, so a running server notices its own tail being cut. Tools run it
   * inside a snapshot (`reads`); the server uses {@link AuditLog.verifyInChunks}.
   */
  async verify(knownHeads: readonly KnownHead[] = [], reads: StoreReads = this.#store): Promise<VerifyResult> {
    const verifier = new ChainVerifier(this.#withOwnHead(knownHeads));
    for await (const row of reads.audit.rows()) {
      if (!verifier.push(row)) break;
    }
    return verifier.result();
  }

  /** The same verification, a chunk at a time with pauses between (see `verify.ts`). */
  verifyInChunks(options: ChunkedVerifyOptions = {}): Promise<VerifyResult> {
    return verifyInChunks(this.#store.audit, { ...options, knownHeads: this.#withOwnHead(options.knownHeads ?? []) });
  }

  #withOwnHead(knownHeads: readonly KnownHead[]): KnownHead[] {
    return this.#lastWritten ? [...knownHeads, this.#lastWritten] : [...knownHeads];
  }

  /**
   * A page of rows matching `query` in date order (`ts`, then `seq`),
   * starting after row `afterSeq`. Empty when that row does not exist.
   */
  query(query: AuditQuery): Promise<AuditRecord[]> {
    return this.#store.audit.page(query);
  }

  /** The rows with `since ≤ ts < until` in chain (`seq`) order, streamed: for exports. */
  range(range: AuditRange = {}): AsyncIterable<AuditRecord> {
    return this.#store.audit.rows(range);
  }
}
