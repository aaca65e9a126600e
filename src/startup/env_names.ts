/**
 * Misspelled settings: an `APP_*` variable that the configuration does not
 * know is almost always a typo (`APP_PROT=9443`), and silently ignoring it
 * leaves the server on a default the operator meant to change. Each unknown
 * name gets one warning naming the closest known variable.
 *
 * Finding them needs every variable's *name*, which the server's permission
 * set does not grant (env is `APP_*` only, by design: no dependency can read
 * another secret from the environment). So the check runs in its own tiny
 * process before the server (`src/cli/check_env.ts`, under the `env-check`
 * set: env names only, no file, network or subprocess access), and this
 * module is the pure part: names in, warnings out.
 */
import { CONFIG_VARIABLES } from "../config.ts";
import { closest } from "../util/levenshtein.ts";

/** Prefix of every setting. */
export const SETTING_PREFIX = "APP_";

/** Edits within which a known name is suggested. */
const SUGGEST_WITHIN = 4;

/**
 * One warning per name in `names` that starts with `APP_` and is not a
 * known setting (`known`, default every variable of `src/config.ts`).
 */
export function unknownSettingWarnings(
  names: Iterable<string>,
  known: readonly string[] = CONFIG_VARIABLES,
): string[] {
  const warnings: string[] = [];
  for (const name of [...names].sort()) {
    if (!name.startsWith(SETTING_PREFIX) || known.includes(name)) continue;
    const suggestion = closest(name, known, SUGGEST_WITHIN);
    warnings.push(
      `warning: ${name} is not a setting and is ignored` +
        (suggestion ? `; did you mean ${suggestion}?` : "; the settings are listed in README.md (Configuration)"),
    );
  }
  return warnings;
}
