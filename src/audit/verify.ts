/**
 * Verifying the stored chain without stopping the server: the rows are read
 * and hashed `chunkSize` at a time with a pause between chunks, so a server
 * verifying millions of rows keeps answering other requests. A run covers
 * the rows up to the head at the moment it starts; rows appended meanwhile
 * are left for the next run.
 */
import { ChainVerifier, type KnownHead, type StoredRow, type VerifyResult } from "./hash_chain.ts";

/** Where the rows come from. */
export interface ChunkSource {
  /** The newest row, or null for an empty log. */
  head(): KnownHead | null;
  /** Up to `limit` rows with `after < seq ≤ upTo`, in `seq` order. */
  chunk(after: number | bigint, upTo: number, limit: number): readonly StoredRow[];
}

/** Options for {@link verifyInChunks}. */
export interface ChunkedVerifyOptions {
  /** Heads recorded elsewhere (the log) that must still be in the chain. Default none. */
  knownHeads?: readonly KnownHead[];
  /** Rows read and hashed between pauses. Default 2000 (a few milliseconds of work). */
  chunkSize?: number;
  /** Awaited between chunks so other work runs. Default a `setTimeout(0)` turn of the event loop. */
  pause?: () => Promise<void>;
}

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Recomputes the chain of `source`, a chunk at a time; see `verifyChain` for what is checked. */
export async function verifyInChunks(source: ChunkSource, options: ChunkedVerifyOptions = {}): Promise<VerifyResult> {
  const { knownHeads = [], chunkSize = 2000, pause = nextTurn } = options;
  const verifier = new ChainVerifier(knownHeads);
  const upTo = source.head()?.seq ?? 0;
  // From SQLite's smallest integer: a forged row with seq ≤ 0 must be seen too.
  let after: number | bigint = -(2n ** 63n);
  for (;;) {
    const rows = source.chunk(after, upTo, chunkSize);
    for (const row of rows) {
      if (!verifier.push(row)) return verifier.result();
    }
    if (rows.length < chunkSize) return verifier.result();
    after = rows[rows.length - 1]!.seq;
    await pause();
  }
}
