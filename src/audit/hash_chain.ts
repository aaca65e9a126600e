// deno-lint-ignore-file secure-api/no-secret-equality -- chain hashes are public integrity values (GET /audit serves them), not secrets
/**
 * The audit log's hash chain. Each row's hash is
 * `SHA-256(prevHash ‖ canonicalJSON(row))`, starting from {@link GENESIS_HASH}.
 * Editing any field of any row changes its hash and breaks the link to the
 * next row; deleting a middle row breaks the sequence; deleting the tail is
 * caught by comparing with a head (`seq`, `hash`) recorded elsewhere (the
 * JSON log at start-up and every 1,000 events).
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

/** The hash of a row given its predecessor's hash. */
export function chainHash(prevHash: string, fields: ChainedFields): string {
  return createHash("sha256").update(prevHash).update(canonicalJSON(fields)).digest("hex");
}

/** A row as read back for verification. */
export interface StoredRow extends ChainedFields {
  prevHash: string;
  hash: string;
}

/** The outcome of a chain verification. */
export type VerifyResult =
  | { ok: true; checked: number; head: { seq: number; hash: string } | null }
  | { ok: false; checked: number; firstBadSeq: number; reason: string };

/** A head recorded outside the database, to detect a truncated tail. */
export interface KnownHead {
  seq: number;
  hash: string;
}

/**
 * Recomputes the chain over `rows` (in `seq` order) and reports the first
 * row that does not fit. With `knownHeads`, each must still be present with
 * the same hash, otherwise rows were removed from the end (or rewritten).
 */
export function verifyChain(rows: Iterable<StoredRow>, knownHeads: readonly KnownHead[] = []): VerifyResult {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  const heads = new Map(knownHeads.map((h) => [h.seq, h.hash]));
  for (const row of rows) {
    if (row.seq !== expectedSeq) {
      return { ok: false, checked, firstBadSeq: row.seq, reason: `expected seq ${expectedSeq}, found ${row.seq}` };
    }
    if (row.prevHash !== prevHash) {
      return { ok: false, checked, firstBadSeq: row.seq, reason: "prevHash does not match the previous row" };
    }
    const { prevHash: _p, hash: _h, ...fields } = row;
    if (chainHash(prevHash, fields) !== row.hash) {
      return { ok: false, checked, firstBadSeq: row.seq, reason: "hash does not match the row's contents" };
    }
    const known = heads.get(row.seq);
    if (known !== undefined && known !== row.hash) {
      return { ok: false, checked, firstBadSeq: row.seq, reason: "row differs from a head recorded in the log" };
    }
    heads.delete(row.seq);
    prevHash = row.hash;
    expectedSeq++;
    checked++;
  }
  if (heads.size > 0) {
    const missing = Math.min(...heads.keys());
    return { ok: false, checked, firstBadSeq: missing, reason: `seq ${missing} was recorded in the log but is gone` };
  }
  return { ok: true, checked, head: checked === 0 ? null : { seq: expectedSeq - 1, hash: prevHash } };
}
