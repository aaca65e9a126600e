/**
 * Reading chain heads back out of the JSON log, to catch a truncated tail:
 * the database alone cannot show that its last rows were deleted, but the
 * log (ideally shipped off the host) remembers `(seq, hash)` pairs the chain
 * once had.
 *
 * Two kinds of line carry one: the head lines (`properties.auditHead`,
 * written at start-up, every 1,000 events and at shutdown) and every audit
 * event line (`properties.audit.seq` / `.hash`). Lines that are not JSON, or
 * carry neither, are skipped; a malformed head is ignored rather than trusted.
 */
import type { KnownHead } from "./hash_chain.ts";

const HASH = /^[0-9a-f]{64}$/;

function asHead(value: unknown): KnownHead | null {
  if (typeof value !== "object" || value === null) return null;
  const { seq, hash } = value as Record<string, unknown>;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) return null;
  if (typeof hash !== "string" || !HASH.test(hash)) return null;
  return { seq, hash };
}

/** The heads one log line records (none for other lines). */
export function headsInLogLine(line: string): KnownHead[] {
  if (!line.startsWith("{")) return [];
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return [];
  }
  const properties = (record as { properties?: Record<string, unknown> } | null)?.properties;
  if (typeof properties !== "object" || properties === null) return [];
  return [asHead(properties.auditHead), asHead(properties.audit)].filter((h): h is KnownHead => h !== null);
}

/** The lines of a UTF-8 stream, without their line endings. */
export async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      yield buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer !== "") yield buffer;
}

/** What a log contributed: its heads, and how many lines were read. */
export interface LogHeads {
  heads: KnownHead[];
  lines: number;
}

/**
 * Every head recorded in a JSON-lines log, de-duplicated. Two different
 * hashes for one `seq` are both kept: the verifier then reports that row,
 * since at most one of them can match the database.
 */
export async function readLogHeads(stream: ReadableStream<Uint8Array>): Promise<LogHeads> {
  const seen = new Map<string, KnownHead>();
  let lines = 0;
  for await (const line of linesOf(stream)) {
    lines++;
    for (const head of headsInLogLine(line)) seen.set(`${head.seq}:${head.hash}`, head);
  }
  return { heads: [...seen.values()], lines };
}
