/**
 * `APP_WORKERS`: how many JavaScript threads serve the port. `1` (the
 * default) runs the server on the main thread as before; `auto` means one
 * per core the runtime reports; an explicit count is capped at 256, far
 * beyond any useful number, so a typo cannot spawn thousands of threads.
 */

/** Most workers accepted. */
export const MAX_WORKERS = 256;

/**
 * Parses an `APP_WORKERS` value. Throws `RangeError` naming the accepted
 * forms; `cores` is `navigator.hardwareConcurrency` unless a test says otherwise.
 */
export function parseWorkerCount(value: string | undefined, cores: number = navigator.hardwareConcurrency): number {
  if (value === undefined || value === "") return 1;
  if (value === "auto") return Math.max(1, Math.min(MAX_WORKERS, Math.floor(cores) || 1));
  if (!/^[1-9][0-9]{0,2}$/.test(value) || Number(value) > MAX_WORKERS) {
    throw new RangeError(`must be "auto" or a whole number from 1 to ${MAX_WORKERS}`);
  }
  return Number(value);
}
