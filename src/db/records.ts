/**
 * The records the data store reads and writes, whatever the engine: plain
 * data, no methods. Times are ISO 8601 UTC text with milliseconds (see
 * `src/util/clock.ts`), except token times, which are milliseconds since the
 * epoch so expiry checks are integer comparisons.
 */
import type { Permission } from "../domain/permissions.ts";
import type { Principal } from "../domain/principal.ts";

/** A user row, hash included: for authentication only. Responses are built from `PublicUser` (accounts service). */
export interface UserRecord {
  readonly id: number;
  readonly username: string;
  readonly passwordHash: string;
  readonly disabled: boolean;
  /** The password was set by someone else and must be changed at first use (see `Principal`). */
  readonly mustChangePassword: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A principal with its user's stored password hash, read in one query (the credential cache checks the hash). */
export interface PrincipalWithHash {
  readonly principal: Principal;
  readonly passwordHash: string;
}

/** A role as the API shows it. */
export interface Role {
  name: string;
  description: string;
  builtin: boolean;
  permissions: Permission[];
  createdAt: string;
  updatedAt: string;
}

/** A product as stored and as returned. Money is integer cents; `version` rises on every change. */
export interface Product {
  id: number;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
  ownerId: number | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** The fields of a product a client may set. */
export interface ProductInput {
  name: string;
  description: string;
  priceCents: number;
  stock: number;
}

/** Why a product update did or did not happen. */
export type UpdateOutcome =
  | { readonly ok: true; readonly product: Product }
  | { readonly ok: false; readonly reason: "missing" | "stale" };

/** A stored bearer token: only the SHA-256 of the token is ever kept. Times in ms since the epoch. */
export interface TokenRecord {
  readonly hash: string;
  readonly userId: number;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly expiresAt: number;
}

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

/** The newest row of the audit chain: its `seq` and `hash`. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** Filters for a page of the audit log in date order. */
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

/**
 * Which migrations a database has and lacks, by file name (readiness reports
 * the pending and the changed ones: a server whose code expects a migration
 * the database lacks — a deploy that skipped the migration step, a restored
 * backup — must not take traffic).
 */
export interface MigrationStatus {
  /** Files recorded as applied. */
  readonly applied: readonly string[];
  /** Files not recorded as applied. */
  readonly pending: readonly string[];
  /** Files recorded as applied whose text has changed since (beyond reviewed comment-only edits). */
  readonly changed: readonly string[];
}
