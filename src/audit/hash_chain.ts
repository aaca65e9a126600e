// deno-lint-ignore-file secure-api/no-secret-equality -- chain hashes are public integrity values (GET /audit serves them), not secrets
/**
 * The audit log's hash chain. Each row's hash is
 * `SHA-256(prevHash ‖ canonicalJSON(row))`, starting from {@link GENESIS_HASH}.
 * Editing any field of any row changes its hash and breaks the link to the
 * next row; deleting a middle row breaks the sequence; deleting the tail is
 * caught by comparing with a head (`seq`, `hash`) recorded elsewhere (the
 * JSON log at start-up and every 1,000 events).
 *
 * The chain is a plain hash, not a keyed one: someone who can write the file
 * can rewrite a row and recompute every hash after it. That rewrite is caught
 * only against heads recorded outside the database — which is why they are
 * written to the log, and why the log should be shipped off the host.
 */
import { createHash } from "node:crypto";

/** The `prevHash` of the first row: SHA-256 of a fixed label. */
export const GENESIS_HASH = createHash("sha256").update("secure-api audit log genesis v1").digest("hex");

/** The hashed fields of an audit row (everything but `prevHash` and `hash`). */
export interface ChainedFields {
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
  /** Canonical JSON text of the detail object, hashed as stored. */
  detail: string;
}

/**
 * JSON with object keys sorted at every level and no whitespace, so the same
 * value always serialises to the same bytes (the idea of RFC 8785, for the
 * strings, integers, booleans and nulls the audit log holds).
 */
export function canonicalJSON(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value);
    return text === undefined ? "null" : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(",")}]`;
  const entries = Object.keys(value).sort().map((key) =>
    `${JSON.stringify(key)}:${canonicalJSON((value as Record<string, unknown>)[key])}`
  );
  return `{${entries.join(",")}}`;
}

const scalar = (value: string | number | null): string => JSON.stringify(value) ?? "null";

/**
 * `canonicalJSON` of exactly the chained fields, written out with the keys
 * already in sorted order: the same bytes (a property test checks it), without
 * sorting on the hot path of every append and every verified row.
 */
export function canonicalRow(f: ChainedFields): string {
  const members = [
    `"actor":${scalar(f.actor)}`,
    `"client":${scalar(f.client)}`,
    `"detail":${scalar(f.detail)}`,
    `"event":${scalar(f.event)}`,
    `"level":${scalar(f.level)}`,
    `"method":${scalar(f.method)}`,
    `"path":${scalar(f.path)}`,
    `"requestId":${scalar(f.requestId)}`,
    `"seq":${scalar(f.seq)}`,
    `"status":${scalar(f.status)}`,
    `"target":${scalar(f.target)}`,
    `"ts":${scalar(f.ts)}`,
  ];
  return `{${members.join(",")}}`;
}

/** The hash of a row given its predecessor's hash: `SHA-256(prevHash ‖ canonicalJSON(fields))`, hex. */
export function chainHash(prevHash: string, fields: ChainedFields): string {
  return createHash("sha256").update(prevHash).update(canonicalRow(fields)).digest("hex");
}

/** A row as read back for verification. */
export interface StoredRow extends ChainedFields {
  prevHash: string;
  hash: string;
}

/** A head recorded outside the database, to detect a truncated tail. */
export interface KnownHead {
  seq: number;
  hash: string;
}

/** The outcome of a chain verification. */
export type VerifyResult =
  | { ok: true; checked: number; head: KnownHead | null }
  | { ok: false; checked: number; firstBadSeq: number; reason: string };

/**
 * Checks rows one at a time, in `seq` order, so a caller can verify a log of
 * any size in constant memory and in chunks (see `AuditLog.verifyInChunks`).
 *
 * With `knownHeads`, every recorded head must still be present with the same
 * hash; a head beyond the last row means rows were removed from the end.
 */
export class ChainVerifier {
  #expectedSeq = 1;
  #prevHash = GENESIS_HASH;
  #checked = 0;
  #failure: { firstBadSeq: number; reason: string } | null = null;
  readonly #heads = new Map<number, Set<string>>();

  constructor(knownHeads: Iterable<KnownHead> = []) {
    for (const { seq, hash } of knownHeads) {
      const hashes = this.#heads.get(seq) ?? new Set<string>();
      hashes.add(hash);
      this.#heads.set(seq, hashes);
    }
  }

  /** Rows verified so far. */
  get checked(): number {
    return this.#checked;
  }

  /** The `seq` of the last verified row (0 before any). */
  get lastSeq(): number {
    return this.#expectedSeq - 1;
  }

  /** Checks the next row. Returns false once the chain is broken: stop feeding rows then. */
  push(row: StoredRow): boolean {
    if (this.#failure) return false;
    const fail = (firstBadSeq: number, reason: string) => {
      this.#failure = { firstBadSeq, reason };
      return false;
    };
    if (row.seq > this.#expectedSeq) {
      const gap = row.seq - this.#expectedSeq === 1
        ? `row ${this.#expectedSeq} is`
        : `rows ${this.#expectedSeq}..${row.seq - 1} are`;
      return fail(this.#expectedSeq, `${gap} missing`);
    }
    if (row.seq !== this.#expectedSeq) {
      return fail(row.seq, `unexpected seq ${row.seq} (expected ${this.#expectedSeq})`);
    }
    if (row.prevHash !== this.#prevHash) return fail(row.seq, "prevHash does not match the previous row's hash");
    if (chainHash(this.#prevHash, row) !== row.hash) return fail(row.seq, "hash does not match the row's contents");
    const known = this.#heads.get(row.seq);
    if (known && (known.size > 1 || !known.has(row.hash))) {
      return fail(row.seq, "row differs from the head recorded in the log");
    }
    this.#heads.delete(row.seq);
    this.#prevHash = row.hash;
    this.#expectedSeq++;
    this.#checked++;
    return true;
  }

  /** The verdict over the rows pushed so far. */
  result(): VerifyResult {
    if (this.#failure) return { ok: false, checked: this.#checked, ...this.#failure };
    if (this.#heads.size > 0) {
      const recorded = Math.max(...this.#heads.keys());
      const first = this.#expectedSeq;
      const gone = recorded === first ? `row ${first} is` : `rows ${first}..${recorded} are`;
      return {
        ok: false,
        checked: this.#checked,
        firstBadSeq: first,
        reason: `${gone} gone: the log recorded a head at seq ${recorded}`,
      };
    }
    return { ok: true, checked: this.#checked, head: this.#checked === 0 ? null : this.#headNow() };
  }

  #headNow(): KnownHead {
    return { seq: this.#expectedSeq - 1, hash: this.#prevHash };
  }
}

/**
 * Recomputes the chain over `rows` (in `seq` order) and reports the first
 * row that does not fit. With `knownHeads`, each must still be present with
 * the same hash, otherwise rows were removed from the end (or rewritten).
 */
export function verifyChain(rows: Iterable<StoredRow>, knownHeads: Iterable<KnownHead> = []): VerifyResult {
  const verifier = new ChainVerifier(knownHeads);
  for (const row of rows) {
    if (!verifier.push(row)) break;
  }
  return verifier.result();
}
