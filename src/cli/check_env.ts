/**
 * `deno task start` runs this first: it warns about `APP_*` variables that
 * are not settings (typos), naming the closest known one, then lets the
 * server start either way. See `src/startup/env_names.ts` for why this is a
 * process of its own: it is the only code that sees every variable *name*,
 * under the `env-check` permission set (environment only; no files, network
 * or subprocesses), so the server itself keeps reading `APP_*` alone.
 * Values are never read or printed.
 */
import { unknownSettingWarnings } from "../startup/env_names.ts";

if (import.meta.main) {
  let names: string[] = [];
  try {
    names = Object.keys(Deno.env.toObject());
  } catch {
    // Without the env-check set (e.g. run by hand under another one) there is nothing to compare: stay quiet.
  }
  const warnings = unknownSettingWarnings(names);
  if (warnings.length > 0) {
    Deno.stderr.writeSync(new TextEncoder().encode(warnings.map((w) => `secure-api: ${w}\n`).join("")));
  }
}
