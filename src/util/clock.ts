/**
 * Time, one way everywhere. A {@link Clock} returns milliseconds since the
 * Unix epoch, like `Date.now`, which is the default wherever one is
 * injected; tests pass a fake and move it instead of sleeping. Instants are
 * stored and shown as ISO 8601 UTC text with milliseconds
 * (`2026-01-01T00:00:00.000Z`), whose text order is time order — the audit
 * log's date queries compare the stored text.
 */

/** Milliseconds since the Unix epoch. */
export type Clock = () => number;

/** The instant `ms` as ISO 8601 UTC text with milliseconds. */
export function toISO(ms: number): string {
  return new Date(ms).toISOString();
}

/** The current instant per `clock`, as ISO 8601 UTC text with milliseconds. */
export function isoNow(clock: Clock): string {
  return toISO(clock());
}
